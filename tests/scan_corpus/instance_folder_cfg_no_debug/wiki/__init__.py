# expect: clean
"""The team wiki: settings of each install in its instance folder."""
from flask import Flask, abort

PAGES = {"home": "Welcome to the team wiki.", "oncall": "Pager rotation: see the ops calendar."}


def create_app():
    # instance_relative_config: from_pyfile names a file of instance/, beside the package.
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(SECRET_KEY="dev", WIKI_PAGES_DIR="pages")
    app.config.from_pyfile("application.cfg", silent=True)

    @app.route("/<slug>")
    def page(slug):
        if slug not in PAGES:
            abort(404)
        return PAGES[slug]

    return app
