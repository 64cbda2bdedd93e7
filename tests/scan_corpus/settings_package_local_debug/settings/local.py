# expect: clean
# Overrides for working on this machine.
SECRET_KEY = "local-dev"
DEBUG = True
SQLALCHEMY_DATABASE_URI = "sqlite:///library-dev.db"
