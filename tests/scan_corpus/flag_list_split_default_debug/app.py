# expect: PGS101 line 9
from flask import Flask

from toggles import on

app = Flask(__name__)

if __name__ == "__main__":
    app.run(port=8125, debug=on("verbose"))
