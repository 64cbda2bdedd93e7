# expect: clean
import settings_prod as settings
from flask import Flask

app = Flask(__name__)

if __name__ == "__main__":
    app.run(port=settings.PORT, debug=settings.DEBUG)
