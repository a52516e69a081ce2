"""A data-stack service: every compiled package of issue 16's list, imported at start-up and
exercised by GET /check (numbers, a DataFrame, an image, a hash...), so an image that lacks a
system library fails to start or answers with the package that broke."""

import asyncio
import hashlib
import io
import json
import os

import cryptography
import grpc
import lxml.etree
import MySQLdb
import numpy as np
import orjson
import pandas as pd
import psycopg
import psycopg2
import psycopg2.extensions
import pydantic
import pydantic_core
import scipy.linalg
import sklearn.linear_model
import uvloop
from cryptography.hazmat.primitives import hashes
from flask import Flask, jsonify
from google.protobuf import struct_pb2
from PIL import Image

app = Flask(__name__)


class Point(pydantic.BaseModel):
    x: int
    y: float


def checks() -> dict[str, object]:
    found: dict[str, object] = {}
    matrix = np.arange(1, 10, dtype=float).reshape(3, 3) + np.eye(3)
    found["numpy"] = round(float(np.linalg.det(matrix)), 6)
    frame = pd.DataFrame({"city": ["a", "b", "a"], "n": [1, 2, 3]})
    found["pandas"] = int(frame.groupby("city")["n"].sum()["a"])
    found["scipy"] = float(scipy.linalg.norm(scipy.linalg.inv(matrix) @ matrix - np.eye(3)) < 1e-9)
    model = sklearn.linear_model.LinearRegression().fit([[0], [1], [2]], [1, 3, 5])
    found["scikit-learn"] = round(float(model.coef_[0]), 6)
    root = lxml.etree.fromstring(b"<a><b>x</b><b>y</b></a>")
    found["lxml"] = len(root.findall("b"))
    image = Image.new("RGB", (32, 16), (200, 10, 10)).resize((8, 4))
    png = io.BytesIO()
    image.save(png, "PNG")
    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG")
    found["pillow"] = [image.size[0], image.size[1], png.getvalue()[:4] == b"\x89PNG",
                       len(jpeg.getvalue()) > 0]
    found["grpcio"] = grpc.ChannelConnectivity.READY.name
    message = struct_pb2.Struct()
    message.update({"k": 1.5})
    found["protobuf"] = struct_pb2.Struct.FromString(message.SerializeToString())["k"]
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"pare")
    found["cryptography"] = digest.finalize().hex() == hashlib.sha256(b"pare").hexdigest()
    found["orjson"] = orjson.loads(orjson.dumps({"a": [1, 2]}))["a"][1]
    found["pydantic-core"] = Point.model_validate({"x": "3", "y": 2}).x + 0 * len(pydantic_core.__version__)
    found["uvloop"] = uvloop.run(_answer())
    found["psycopg2"] = psycopg2.extensions.libpq_version() > 90000
    found["psycopg"] = psycopg.pq.version() > 90000 and psycopg.pq.__impl__ in ("binary", "c")
    found["mysqlclient"] = bool(MySQLdb.get_client_info())
    found["versions"] = {"cryptography": cryptography.__version__, "numpy": np.__version__}
    return found


async def _answer() -> int:
    await asyncio.sleep(0)
    return 42


@app.get("/")
def index() -> str:
    return "hello from py-datastack\n"


@app.get("/check")
def check():  # type: ignore[no-untyped-def]
    return jsonify(checks())


if __name__ == "__main__":
    print(json.dumps(checks()), flush=True)  # a broken package fails here, before serving
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8080")))
