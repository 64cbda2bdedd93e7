# expect: clean
import os
import shutil

PORT = os.environ.get("PORT", "8000")


def main():
    flask = shutil.which("flask") or "flask"
    argv = [flask, "--app", "web:app", "run", "--port", PORT]
    argv.append("--no-debug")
    os.execvp(flask, argv)


if __name__ == "__main__":
    main()
