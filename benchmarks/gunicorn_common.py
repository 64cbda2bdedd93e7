"""What the gunicorn benchmarks share: ports, the command line, worker pids."""

from __future__ import annotations

import socket
import sys
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gunicorn_command(app: str, port: int, workers: int, *options: str) -> list[str]:
    """``python -m gunicorn`` serving ``app`` with sync workers on 127.0.0.1."""
    from gunicorn import config

    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        *options,
    ]
    if hasattr(config, "ControlSocketDisable"):
        command.append("--no-control-socket")  # gunicorn >= 25.1 opens one under $HOME
    return [*command, app]


def workers_of(master: int) -> list[int]:
    """The pids of the gunicorn workers of ``master`` (Linux, from ``/proc``)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)
