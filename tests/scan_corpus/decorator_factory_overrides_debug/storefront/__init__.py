# expect: clean
from flask import Flask

from .tuning import tuned


@tuned(DEBUG=True, JSON_SORT_KEYS=False)
def build_site():
    return Flask(__name__)
