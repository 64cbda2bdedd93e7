# expect: PGS101 line 5
from web import app

if __name__ == "__main__":
    app.run(host="0.0.0.0", debug=True)
