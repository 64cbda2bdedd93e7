# expect: PGS104 line 29
"""Container entrypoint (``ENTRYPOINT ["python", "docker-entrypoint.py"]``).

Waits for the database, runs the migrations, then replaces itself with
``flask run`` so that the server gets the container's signals.
"""
import os
import socket
import subprocess
import time


def wait_for(host, port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"{host}:{port} did not come up in {timeout}s")


def main():
    env = dict(os.environ)
    env.setdefault("FLASK_DEBUG", "1")
    wait_for(env.get("DB_HOST", "db"), int(env.get("DB_PORT", "5432")))
    subprocess.run(["flask", "--app", "app", "db", "upgrade"], check=True, env=env)
    os.execvpe("flask", ["flask", "--app", "app", "run", "--host", "0.0.0.0"], env)


if __name__ == "__main__":
    main()
