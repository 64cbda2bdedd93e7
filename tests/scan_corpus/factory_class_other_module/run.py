# expect: PGS101 line 7
from core.factory import AppFactory

server = AppFactory().build()

if __name__ == "__main__":
    server.run(host="0.0.0.0", port=8000, debug=True)
