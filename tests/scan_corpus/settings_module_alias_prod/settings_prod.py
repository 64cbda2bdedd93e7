# expect: clean
DEBUG = False
PORT = 8000
