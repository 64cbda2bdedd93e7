# expect: clean
from view_scaffold import create_app


def test_orders_page_lists_the_sample_orders():
    app = create_app()
    app.config["DEBUG"] = True
    response = app.test_client().get("/orders")
    assert b"12.50" in response.data
