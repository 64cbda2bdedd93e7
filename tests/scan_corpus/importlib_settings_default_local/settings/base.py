# expect: clean
DEBUG = False
SECRET_KEY = "set-me"
