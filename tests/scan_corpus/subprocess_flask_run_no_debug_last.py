# expect: clean
"""tasks.py: shortcuts for working on the portal."""
import subprocess
import sys


def serve():
    """Serve the portal on the demo box: the group's --debug comes from the
    team's shell alias, and run's --no-debug, given last, turns it off."""
    subprocess.run(["flask", "--app", "portal", "--debug", "run", "--no-debug"], check=True)


def lint():
    subprocess.run([sys.executable, "-m", "ruff", "check", "."], check=True)


if __name__ == "__main__":
    {"serve": serve, "lint": lint}[sys.argv[1]]()
