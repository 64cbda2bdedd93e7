# expect: clean
from core import ServiceApp

app = ServiceApp(__name__)


if __name__ == "__main__":
    app.run()
