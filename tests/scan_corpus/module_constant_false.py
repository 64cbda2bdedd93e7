# expect: clean
from flask import Flask

DEBUG_MODE = False

web = Flask(__name__)

if __name__ == "__main__":
    web.run(debug=DEBUG_MODE)
