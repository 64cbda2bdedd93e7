# expect: clean
"""Serves the live plot beside the data logger, in one process."""
import threading
import time

from flask import Flask, jsonify

from logger import Sampler

app = Flask(__name__)
sampler = Sampler(port="/dev/ttyUSB0", every=0.5)


@app.get("/samples")
def samples():
    return jsonify(sampler.latest(200))


def main():
    server = threading.Thread(
        target=app.run,
        kwargs={"host": "0.0.0.0", "port": 8050, "debug": False, "use_reloader": False},
        daemon=True,
    )
    server.start()
    while True:
        sampler.read()
        time.sleep(sampler.every)


if __name__ == "__main__":
    main()
