# expect: clean
from flask import Flask


class Portal(Flask):
    """The project's own app class, in its own module."""
