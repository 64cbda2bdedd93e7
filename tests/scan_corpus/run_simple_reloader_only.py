# expect: clean
from flask import Flask
from werkzeug.serving import run_simple

app = Flask(__name__)

if __name__ == "__main__":
    run_simple("localhost", 5000, app, use_reloader=True)
