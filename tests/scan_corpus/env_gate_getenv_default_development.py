# expect: PGS101 line 9
import os

from flask import Flask

web = Flask(__name__)

if __name__ == "__main__":
    web.run(debug=os.getenv("ENV", "development") == "development")
