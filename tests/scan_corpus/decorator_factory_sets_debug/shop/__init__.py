# expect: clean
from flask import Flask

from devtools import verbose


@verbose
def make_app():
    shop = Flask(__name__)

    @shop.get("/basket")
    def basket():
        return {"items": []}

    return shop
