# expect: clean
from shop import make_app

application = make_app()
