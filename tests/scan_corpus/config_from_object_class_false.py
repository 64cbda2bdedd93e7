# expect: clean
from flask import Flask


class Config:
    SECRET_KEY = "from-env"
    DEBUG = False


app = Flask(__name__)
app.config.from_object(Config)
