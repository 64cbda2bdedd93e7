# expect: clean
from flask import Flask

from stage import OVERRIDES

app = Flask(__name__)
app.config.update(OVERRIDES)
