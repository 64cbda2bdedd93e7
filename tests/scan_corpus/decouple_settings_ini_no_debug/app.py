# expect: clean
"""python-decouple: settings.ini beside the code wins over the defaults."""
from decouple import config
from flask import Flask

app = Flask(__name__)
app.config["SECRET_KEY"] = config("SECRET_KEY")
app.config["DEBUG"] = config("DEBUG", default=True, cast=bool)
