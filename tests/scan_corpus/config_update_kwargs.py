# expect: PGS103 line 5
from flask import Flask

application = Flask(__name__)
application.config.update(DEBUG=True, JSON_SORT_KEYS=False)


@application.route("/")
def index():
    return "update kwargs"
