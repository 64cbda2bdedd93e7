# expect: PGS101 line 12
import os

from flask import Flask

app = Flask(__name__)

# Debug unless someone remembered to set APP_ENV=production.
debug = os.environ.get("APP_ENV") != "production"

if __name__ == "__main__":
    app.run(debug=debug)
