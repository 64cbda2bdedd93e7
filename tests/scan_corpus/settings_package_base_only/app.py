# expect: clean
from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config.from_object("settings")
db = SQLAlchemy(app)


class Book(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    author = db.Column(db.String(120), nullable=False)


@app.route("/")
def catalogue():
    books = Book.query.order_by(Book.title).limit(app.config["BOOKS_PER_PAGE"]).all()
    return render_template("catalogue.html", books=books)
