# expect: clean
import pytest

from portal import create_app


@pytest.fixture
def app():
    app = create_app({"TESTING": True})
    app.config["DEBUG"] = True
    yield app


@pytest.fixture
def debug_client(app):
    app.debug = True
    return app.test_client()
