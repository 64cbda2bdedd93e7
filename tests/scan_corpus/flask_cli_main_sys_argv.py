# expect: clean
"""Start the portal from an IDE's run button: the flask command, in process."""
import sys

from flask.cli import main

if __name__ == "__main__":
    # Same as typing the command in a shell.
    sys.argv = ["flask", "--app", "portal", "run", "--port", "8000"]
    main()
