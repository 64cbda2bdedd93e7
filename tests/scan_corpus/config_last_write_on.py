# expect: PGS103 line 7
from flask import Flask

app = Flask(__name__)
app.config.update(DEBUG=False)
app.config["SECRET_KEY"] = "change-me"
app.config["DEBUG"] = True

if __name__ == "__main__":
    app.run()
