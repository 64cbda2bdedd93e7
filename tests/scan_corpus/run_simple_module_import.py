# expect: PGS105 line 8
import werkzeug.serving
from flask import Flask

web = Flask(__name__)

if __name__ == "__main__":
    werkzeug.serving.run_simple("0.0.0.0", 8000, web, use_debugger=True)
