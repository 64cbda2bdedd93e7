# expect: clean
DEBUG = True
SECRET_KEY = "dev"
