# expect: PGS101 line 14
from flask import Flask


def create_app():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "dev"
    return app


app = create_app()

if __name__ == "__main__":
    app.run(debug=True)
