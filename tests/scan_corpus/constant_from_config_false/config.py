# expect: clean
DEBUG = False
