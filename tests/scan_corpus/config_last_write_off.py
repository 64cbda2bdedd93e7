# expect: clean
from flask import Flask

app = Flask(__name__)
app.config["DEBUG"] = True
app.config["SECRET_KEY"] = "change-me"
# Debug was on for the template defaults above; off before anything is served.
app.config.update(DEBUG=False)

if __name__ == "__main__":
    app.run()
