# expect: clean
from flask import Flask

from settings import AppSettings

settings = AppSettings.from_env()
app = Flask(__name__)


if __name__ == "__main__":
    app.run(host=settings.host, port=settings.port, debug=settings.debug)
