# expect: clean
"""dev.py: serve the portal with the virtualenv's own Python."""
import subprocess
import sys

FLASK = [sys.executable, "-m", "flask", "--app", "portal"]


def serve():
    command = FLASK + ["run", "--port", "8000"]
    subprocess.run(command, check=True)


if __name__ == "__main__":
    serve()
