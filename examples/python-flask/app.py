"""python-flask: answers GET / on $PORT (default 8080)."""

import os

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "hello from python-flask\n"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8080")))
