# expect: PGS101 line 7
from flask import Flask

app = Flask(__name__)

# The ignore names another rule, so PGS101 is still reported.
app.run(debug=True)  # prodguard: ignore[PGS102]
