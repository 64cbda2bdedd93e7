# expect: clean
from flask import Flask


def create_app():
    app = Flask(__name__)

    @app.get("/products")
    def products():
        return {"products": []}

    return app
