# expect: clean
import os

from flask import Flask

app = Flask(__name__)


@app.route("/health")
def health():
    return {"status": "ok"}


if __name__ == "__main__":
    options = {"host": "0.0.0.0", "port": int(os.environ.get("PORT", 8080))}
    options["debug"] = False
    options["threaded"] = True
    app.run(**options)
