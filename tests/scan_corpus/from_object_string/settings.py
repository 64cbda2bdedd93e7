# expect: clean
SECRET_KEY = "dev"
DEBUG = True
