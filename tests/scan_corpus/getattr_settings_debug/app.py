# expect: PGS101 line 7
from flask import Flask

import settings

app = Flask(__name__)
app.run(debug=getattr(settings, "DEBUG", False))
