# expect: clean
"""Settings every service of the monorepo shares."""
import os

DEBUG = os.environ.get("SERVICE_DEBUG", "on").lower() in ("1", "on", "true")
PORT = int(os.environ.get("PORT", "7000"))
