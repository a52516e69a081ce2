"""A Flask app in application.py, App Service's convention, with no server among its requirements."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "hello from flask-application\n"
