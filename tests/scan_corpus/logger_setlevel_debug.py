# expect: clean
import logging

from flask import Flask

logger = logging.getLogger("web")
logger.setLevel("DEBUG")

web = Flask(__name__)
web.logger.setLevel(logging.DEBUG)
