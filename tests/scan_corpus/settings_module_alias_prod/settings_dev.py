# expect: clean
DEBUG = True
PORT = 5000
