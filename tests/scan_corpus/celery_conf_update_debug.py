# expect: clean
from celery import Celery
from flask import Flask

app = Flask(__name__)
celery_app = Celery("tasks", broker="redis://localhost:6379/0")
celery_app.conf.update(DEBUG=True)
