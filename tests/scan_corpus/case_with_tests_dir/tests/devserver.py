# expect: PGS104 line 7
# expect: PGS101 line 11
import os

from flask import Flask

os.environ["FLASK_DEBUG"] = "1"
app = Flask(__name__)

if __name__ == "__main__":
    app.run(debug=True)
