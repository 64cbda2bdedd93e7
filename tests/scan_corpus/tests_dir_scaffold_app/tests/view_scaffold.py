# expect: PGS103 line 13
"""A scaffold app with sample data, to look at the pages by hand.

pytest does not collect this module: its name does not start with test_.
"""
from flask import Flask, render_template

SAMPLE_ORDERS = [{"id": 1, "total": "12.50"}, {"id": 2, "total": "8.00"}]


def create_app():
    app = Flask(__name__, template_folder="../templates")
    app.config["DEBUG"] = True
    app.config["TEMPLATES_AUTO_RELOAD"] = True

    @app.route("/orders")
    def orders():
        return render_template("orders.html", orders=SAMPLE_ORDERS)

    return app
