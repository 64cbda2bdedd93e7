# expect: PGS103 line 7
"""Every setting in config.yaml, loaded with PyYAML."""
import yaml
from flask import Flask

app = Flask(__name__)
app.config.from_file("config.yaml", load=yaml.safe_load)


@app.get("/")
def index():
    return "configured"
