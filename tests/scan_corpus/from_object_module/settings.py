# expect: clean
DEBUG = True
SQLALCHEMY_DATABASE_URI = "sqlite:///dev.db"
