# expect: PGS103 line 6
import settings
from flask import Flask

application = Flask(__name__)
application.config.from_object(settings)
