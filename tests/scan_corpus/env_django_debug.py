# expect: clean
import os

from flask import Flask

os.environ["DJANGO_DEBUG"] = "1"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")

app = Flask(__name__)
