# expect: PGS101 line 20
"""Run the reports service on this machine."""
import argparse

from flask import Flask

app = Flask(__name__)


@app.get("/reports")
def reports():
    return {"reports": []}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the reports service.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--debug", action="store_true", default=True)
    app.run(**vars(parser.parse_args()))
