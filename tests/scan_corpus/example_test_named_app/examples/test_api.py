# expect: PGS101 line 33
"""Example: a small JSON API and its tests in one file.

``pytest examples/test_api.py`` runs the tests; ``python examples/test_api.py``
serves the example.
"""
from flask import Flask, jsonify

app = Flask(__name__)
ITEMS = [{"id": 1, "name": "widget"}, {"id": 2, "name": "gadget"}]


@app.get("/api/items")
def list_items():
    return jsonify(ITEMS)


def test_list_items_in_debug_mode():
    app.config["DEBUG"] = True
    response = app.test_client().get("/api/items")
    assert response.status_code == 200
    assert response.get_json()[0]["name"] == "widget"


def test_debug_flag_is_seen():
    app.debug = True
    with app.test_request_context():
        assert app.debug


if __name__ == "__main__":
    # Not collected by pytest: this runs only as a program.
    app.run(debug=True)
