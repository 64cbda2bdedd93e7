# expect: PGS102 line 5
from flask import Flask

server = Flask(__name__)
server.debug = 1


@server.get("/status")
def status():
    return {"status": "up"}
