# expect: clean
# Settings for "flask run" (python-dotenv loads this file).
FLASK_APP=app
FLASK_DEBUG=0
FLASK_RUN_PORT=5001
