# expect: PGS102 line 5
from flask import Flask

web = Flask(__name__)
setattr(web, "debug", True)


@web.route("/")
def index():
    return "setattr"
