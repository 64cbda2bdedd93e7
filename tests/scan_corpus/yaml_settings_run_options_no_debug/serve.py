# expect: clean
"""Sentiment model server: every setting in config.yaml."""
import os
import pickle

import yaml
from flask import Flask, jsonify, request

HERE = os.path.dirname(os.path.abspath(__file__))

with open(os.path.join(HERE, "config.yaml")) as fh:
    CONFIG = yaml.safe_load(fh)

with open(os.path.join(HERE, CONFIG["model"]["path"]), "rb") as fh:
    MODEL = pickle.load(fh)

app = Flask(__name__)


@app.post("/predict")
def predict():
    return jsonify(score=MODEL.score(request.get_json()["text"]))


if __name__ == "__main__":
    app.run(**CONFIG["server"])
