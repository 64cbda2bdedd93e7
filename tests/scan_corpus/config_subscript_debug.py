# expect: PGS103 line 6
from flask import Flask

app = Flask(__name__)
app.config["SECRET_KEY"] = "not-so-secret"
app.config["DEBUG"] = True
