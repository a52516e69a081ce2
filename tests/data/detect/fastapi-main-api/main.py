"""A FastAPI app named `api` in main.py, with no server among its requirements."""
from fastapi import FastAPI

api = FastAPI()


@api.get("/")
def index() -> dict[str, str]:
    return {"hello": "from fastapi-main-api"}
