# expect: clean
"""``python start.py``: local launcher that fills in the development settings."""
import os
import shutil

LOCAL_SETTINGS = {
    "FLASK_APP": "wsgi:app",
    "FLASK_DEBUG": "0",
    "FLASK_RUN_PORT": "5000",
}


def main():
    # The defaults go into a copy of the environment, one by one: what the
    # developer exported wins.
    env = dict(os.environ)
    for key, value in LOCAL_SETTINGS.items():
        env.setdefault(key, value)
    flask = shutil.which("flask") or "flask"
    print(f"starting {flask} with FLASK_APP={env['FLASK_APP']}")
    if not os.path.exists("wsgi.py"):
        raise SystemExit("run me from the project directory")
    # The launcher becomes the server, so it gets the terminal's signals.
    os.execvpe(flask, ["flask", "run"], env)


if __name__ == "__main__":
    main()
