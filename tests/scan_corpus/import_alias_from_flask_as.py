# expect: PGS101 line 12
from flask import Flask as F

app = F(__name__)


@app.route("/")
def index():
    return "aliased class"


app.run(debug=True)
