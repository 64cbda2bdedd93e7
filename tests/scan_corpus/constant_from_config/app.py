# expect: PGS101 line 8
from config import DEBUG
from flask import Flask

app = Flask(__name__)

if __name__ == "__main__":
    app.run(debug=DEBUG)
