# expect: clean
from flask import Flask

from runopts import RunOptions

app = Flask(__name__)

if __name__ == "__main__":
    app.run(**RunOptions(port=8000)._asdict())
