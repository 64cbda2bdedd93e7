# expect: clean
import os

from flask import Flask

STAGE = os.environ.get("STAGE", "prod")
app = Flask(__name__)
app.config.from_object(f"settings.{STAGE.capitalize()}Config")
