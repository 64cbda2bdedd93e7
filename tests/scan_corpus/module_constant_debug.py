# expect: PGS101 line 10
from flask import Flask

DEBUG_MODE = True
PORT = 5000

app = Flask(__name__)

if __name__ == "__main__":
    app.run(port=PORT, debug=DEBUG_MODE)
