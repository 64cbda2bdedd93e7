# expect: clean
DEBUG = True
