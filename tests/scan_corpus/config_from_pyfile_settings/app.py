# expect: PGS103 line 6
from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config.from_pyfile("settings.py")
db = SQLAlchemy(app)


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(120), nullable=False)
    body = db.Column(db.Text, nullable=False)


@app.route("/")
def index():
    posts = Post.query.order_by(Post.id.desc()).limit(app.config["POSTS_PER_PAGE"]).all()
    return render_template("index.html", posts=posts)
