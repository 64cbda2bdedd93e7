# expect: clean
from flask import Flask

from devtools import primed


@primed
def make_app():
    shop = Flask(__name__)

    @shop.get("/ping")
    def ping():
        return "pong"

    return shop
