# expect: PGS107 line 9
"""tasks.py: shortcuts for working on the portal."""
import subprocess
import sys


def serve():
    """Serve the portal on this machine."""
    subprocess.run(["flask", "--app", "portal", "run", "--debug"], check=True)


def lint():
    subprocess.run([sys.executable, "-m", "ruff", "check", "."], check=True)


if __name__ == "__main__":
    {"serve": serve, "lint": lint}[sys.argv[1]]()
