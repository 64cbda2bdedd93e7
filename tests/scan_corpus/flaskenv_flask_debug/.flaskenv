# expect: PGS108 line 4
# Settings for "flask run" (python-dotenv loads this file).
FLASK_APP=app
FLASK_DEBUG=1
FLASK_RUN_PORT=5001
