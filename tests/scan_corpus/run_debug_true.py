# expect: PGS101 line 12
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "hello"


app.run(debug=True)
