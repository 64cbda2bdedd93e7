# expect: clean
class DevConfig:
    DEBUG = True


class ProdConfig:
    DEBUG = False
