# expect: clean
import os

DEV_MODE = os.environ.get("DEPLOY_TARGET", "laptop") == "laptop"
