# expect: clean
from flask import Flask

app = Flask(__name__)

if False:
    app.run(debug=True)
