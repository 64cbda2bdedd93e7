# expect: clean
from flask import Flask


class Portal(Flask):
    pass


class AdminPortal(Portal):
    """Derived from a subclass of Flask: still a Flask app."""


class PortalFactory:
    """The project's own factory class."""

    @classmethod
    def build(cls, name: str) -> AdminPortal:
        app = AdminPortal(name)
        return app


application = PortalFactory.build(__name__)
application.debug = False
