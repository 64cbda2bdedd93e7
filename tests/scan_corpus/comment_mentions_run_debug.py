# expect: clean
from flask import Flask

app = Flask(__name__)

# Never do this in production: app.run(debug=True)
# app.debug = True
# app.config["DEBUG"] = True
# os.environ["FLASK_DEBUG"] = "1"

if __name__ == "__main__":
    app.run()  # not app.run(debug=True)
