# expect: clean
import enum
import os


class Env(enum.Enum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


CURRENT = Env(os.getenv("APP_ENV", "production"))
