# expect: clean
from flask import Flask

application = Flask(__name__)
application.config["DEBUG"] = False
application.config["SECRET_KEY"] = "from-vault"
