# expect: clean
from flask import Flask

from runner import make_runner

app = Flask(__name__)

run = make_runner(debug=not app.config["TESTING"], port=5070)

if __name__ == "__main__":
    run(app)
