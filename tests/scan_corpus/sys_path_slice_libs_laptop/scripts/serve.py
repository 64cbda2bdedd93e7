# expect: PGS101 line 14
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "libs")]

from flask import Flask  # noqa: E402

from common.runtime import DEV_MODE  # noqa: E402

app = Flask("catalog")
if __name__ == "__main__":
    app.run(port=8101, debug=DEV_MODE)
