# expect: PGS103 line 11
import configparser
import os

from flask import Flask

parser = configparser.ConfigParser()
parser.read(os.path.join(os.path.dirname(__file__), "app.ini"))
section = parser[os.environ.get("APP_ENV", "development")]
app = Flask(__name__)
app.config["DEBUG"] = section.getboolean("debug", fallback=False)
