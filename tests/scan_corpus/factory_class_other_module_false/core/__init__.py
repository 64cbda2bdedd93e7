# expect: clean
"""The portal's application core: the app factory and its parts."""
