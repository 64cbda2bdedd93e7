# expect: PGS104 line 19
"""``python launcher.py``: start ``flask run`` with the development environment."""
import os
import shutil

from devenv import DEV_ENV


def child_env():
    env = os.environ.copy()
    for key, value in DEV_ENV.items():
        env.setdefault(key, value)
    return env


def main():
    if shutil.which("flask") is None:
        raise SystemExit("flask is not on PATH: activate the virtualenv first")
    os.execvpe("flask", ["flask", "run"], child_env())


if __name__ == "__main__":
    main()
