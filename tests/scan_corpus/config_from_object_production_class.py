# expect: clean
from flask import Flask


class DevelopmentConfig:
    DEBUG = True


class ProductionConfig:
    DEBUG = False
    SESSION_COOKIE_SECURE = True


application = Flask(__name__)
application.config.from_object(ProductionConfig)
