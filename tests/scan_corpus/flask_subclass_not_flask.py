# expect: clean
from flask import Flask


class Runner:
    def run(self, debug: bool = False) -> None:
        pass


class Portal(Runner):
    """Named like an app, but derived from a job runner, not from Flask."""


app = Flask(__name__)

if __name__ == "__main__":
    Portal().run(debug=True)
