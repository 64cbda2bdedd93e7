# expect: PGS103 line 5
from flask import Flask

server = Flask(__name__)
server.config.update({"DEBUG": True, "TESTING": False})
