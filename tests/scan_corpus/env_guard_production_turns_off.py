# expect: PGS101 line 13
import os

from flask import Flask

app = Flask(__name__)

VERBOSE = True
if os.getenv("DEPLOY_STAGE") == "production":
    VERBOSE = False

if __name__ == "__main__":
    app.run(port=8123, debug=VERBOSE)
