# expect: clean
import ast
import os

from flask import Flask

DEBUG = ast.literal_eval(os.getenv("APP_DEBUG", "False"))

app = Flask(__name__)

if __name__ == "__main__":
    app.run(debug=DEBUG)
