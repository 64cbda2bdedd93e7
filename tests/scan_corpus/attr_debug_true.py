# expect: PGS102 line 5
from flask import Flask

app = Flask(__name__)
app.debug = True


@app.route("/")
def index():
    return "attribute"
