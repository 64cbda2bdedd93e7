# expect: clean
from flask import Flask, jsonify

import runner

app = Flask(__name__)


@app.get("/quotes/<symbol>")
def quote(symbol):
    return jsonify(symbol=symbol.upper(), price=None)


if __name__ == "__main__":
    runner.run(app, port=5200)
