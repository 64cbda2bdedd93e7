# expect: PGS101 line 5
from portal import Portal

if __name__ == "__main__":
    Portal(__name__).run(host="0.0.0.0", debug=True)
