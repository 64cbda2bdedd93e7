# expect: clean
TESTING = True
