# expect: PGS103 line 8
import os

from flask import Flask

STAGE = os.environ.get("STAGE", "dev")
app = Flask(__name__)
app.config.from_object(f"settings.{STAGE.capitalize()}Config")
