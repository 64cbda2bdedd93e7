# expect: PGS101 line 5
from factory import create_app

if __name__ == "__main__":
    create_app().run(debug=True)
