# expect: PGS101 line 8
import settings_dev as settings
from flask import Flask

app = Flask(__name__)

if __name__ == "__main__":
    app.run(port=settings.PORT, debug=settings.DEBUG)
