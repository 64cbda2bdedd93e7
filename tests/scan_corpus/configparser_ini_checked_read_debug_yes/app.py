# expect: PGS101 line 18
from flask import Flask, jsonify

from config import load

cfg = load()

app = Flask(__name__)
app.config["SECRET_KEY"] = cfg.get("app", "secret_key")


@app.get("/status")
def status():
    return jsonify(station=cfg.get("app", "station_name"), ok=True)


if __name__ == "__main__":
    app.run(
        host=cfg.get("server", "host", fallback="127.0.0.1"),
        port=cfg.getint("server", "port", fallback=5000),
        debug=cfg.getboolean("server", "debug", fallback=False),
    )
