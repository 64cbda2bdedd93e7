# expect: PGS103 line 7
from flask import Flask

from environment import CURRENT, Env

app = Flask(__name__)
app.config["DEBUG"] = CURRENT is Env.DEVELOPMENT
