# expect: PGS107 line 11
"""dev.py: serve the portal with the virtualenv's own Python."""
import subprocess
import sys

FLASK = [sys.executable, "-m", "flask", "--app", "portal"]


def serve():
    command = FLASK + ["run", "--debug"]
    subprocess.run(command, check=True)


if __name__ == "__main__":
    serve()
