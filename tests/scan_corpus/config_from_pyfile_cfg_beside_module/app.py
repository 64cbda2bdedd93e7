# expect: PGS103 line 7
import os

from flask import Flask, render_template

app = Flask(__name__)
app.config.from_pyfile(os.path.join(os.path.dirname(__file__), "settings.cfg"))


@app.route("/")
def home():
    return render_template("home.html", site=app.config["SITE_NAME"])


@app.route("/about")
def about():
    return render_template("about.html", contact=app.config["CONTACT_EMAIL"])
