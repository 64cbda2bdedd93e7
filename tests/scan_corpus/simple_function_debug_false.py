# expect: clean
import os

from flask import Flask

STAGE = "prod"


def debug_wanted() -> bool:
    """Debug everywhere but in production."""
    return STAGE not in ("prod", "production")


os.environ.setdefault("STAGE", STAGE)
Flask(__name__).run(debug=debug_wanted())
