# expect: PGS101 line 12
import ast
import os

from flask import Flask

DEBUG = ast.literal_eval(os.getenv("APP_DEBUG", "True"))

app = Flask(__name__)

if __name__ == "__main__":
    app.run(debug=DEBUG)
