# expect: clean
from flask import Flask

app = Flask(__name__)

if app.debug or app.config.get("DEBUG"):
    raise RuntimeError("debug mode must be off")
