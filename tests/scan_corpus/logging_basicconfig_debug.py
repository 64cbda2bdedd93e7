# expect: clean
import logging

from flask import Flask

logging.basicConfig(level=logging.DEBUG)

app = Flask(__name__)
app.logger.debug("app created")
