# expect: clean
from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy

import settings

app = Flask(__name__)
app.config["SECRET_KEY"] = settings.SECRET_KEY
app.config["DEBUG"] = settings.DEBUG
app.config["SQLALCHEMY_DATABASE_URI"] = settings.SQLALCHEMY_DATABASE_URI
app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = settings.SQLALCHEMY_TRACK_MODIFICATIONS
db = SQLAlchemy(app)


class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    body = db.Column(db.Text, nullable=False)


@app.route("/")
def index():
    notes = Note.query.order_by(Note.id.desc()).limit(settings.ITEMS_PER_PAGE).all()
    return render_template("index.html", notes=notes)
