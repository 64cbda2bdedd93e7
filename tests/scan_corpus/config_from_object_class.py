# expect: PGS103 line 11
from flask import Flask


class Config:
    SECRET_KEY = "dev"
    DEBUG = True


app = Flask(__name__)
app.config.from_object(Config)
