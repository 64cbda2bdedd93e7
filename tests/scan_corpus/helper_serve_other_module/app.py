# expect: clean
from flask import Flask, jsonify

from devserver import serve

app = Flask(__name__)


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/api/items")
def items():
    return jsonify(items=[])


if __name__ == "__main__":
    serve(app, port=8001)
