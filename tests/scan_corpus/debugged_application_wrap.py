# expect: PGS106 line 6
from flask import Flask
from werkzeug.debug import DebuggedApplication

app = Flask(__name__)
application = DebuggedApplication(app, evalex=True)
