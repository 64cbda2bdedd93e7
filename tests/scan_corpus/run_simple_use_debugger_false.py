# expect: clean
from flask import Flask
from werkzeug.serving import run_simple

web = Flask(__name__)

if __name__ == "__main__":
    run_simple("127.0.0.1", 8000, web, True, False)
