# expect: clean
"""The recipes site; ``flask run`` picks up .flaskenv beside it."""
from flask import Flask, render_template

app = Flask(__name__)


@app.route("/")
def index():
    return render_template("index.html")


@app.route("/recipes/<slug>")
def recipe(slug):
    return render_template("recipe.html", slug=slug)
