# expect: PGS103 line 7
from flask import Flask

web = Flask(__name__)
cfg = web.config
cfg["SESSION_COOKIE_SECURE"] = True
cfg["DEBUG"] = True
