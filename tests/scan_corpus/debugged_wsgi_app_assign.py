# expect: PGS106 line 6
from flask import Flask
from werkzeug.debug import DebuggedApplication

app = Flask(__name__)
app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)
