"""Take the documentation's screenshots from the real program.

- ``error-page.png``: the generic 500 page of ``examples/demo.py`` served by
  gunicorn in production mode (the default), as a browser shows it;
- ``check-output.png``: what ``flask prodguard check`` prints in a terminal for
  a deliberately unsafe app, colours included.

Both are taken with headless Chromium (Debian package ``chromium``)::

    .venv/bin/python docs/screenshots.py [--output DIR] [--chromium PATH]

gunicorn and flask are the ones next to the Python running this script. Every
process runs on 127.0.0.1 with a throwaway HOME in a temporary directory. The
script exits with status 1 and says why when anything is not as expected.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import math
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_OUTPUT = ROOT / "docs" / "_static"

#: Browser window for the error page.
ERROR_PAGE_SIZE = (900, 600)
#: The view of examples/demo.py that raises.
ERROR_PATH = "/boom"
#: What the page must not show: a traceback, the demo's exception and the
#: password in its message.
LEAKS = ("Traceback", "RuntimeError", "hunter2")
#: How long a server may take to answer, a program to finish.
TIMEOUT = 30.0

#: Prefixes of the variables that steer Flask, Werkzeug, gunicorn, the guard or pytest.
STEERING_PREFIXES = ("FLASK_", "WERKZEUG_", "PRODGUARD_", "GUNICORN_", "PYTEST_")

#: The unsafe app whose check output is shown: debug on, a placeholder secret
#: key, TESTING on, and Flask's defaults for the session cookie and body size.
UNSAFE_APP = '''\
"""A deliberately unsafe app, for the check-output screenshot."""

from flask import Flask
from flask_prodguard import ProdGuard

app = Flask("shop")
app.config.update(DEBUG=True, SECRET_KEY="changeme", TESTING=True)
ProdGuard(app)
'''
CHECK_ARGV = ["flask", "--app", "app", "prodguard", "check"]

# The terminal: font, padding and colours (SGR foreground code -> CSS colour).
FONT_PX = 14
LINE_PX = 20
#: Advance width of DejaVu Sans Mono, in em (1233/2048), rounded up.
CHAR_EM = 0.61
PAD_PX = 16
PALETTE = {
    30: "#000000",
    31: "#f14c4c",
    32: "#23d18b",
    33: "#f5f543",
    34: "#3b8eea",
    35: "#d670d6",
    36: "#29b8db",
    37: "#e5e5e5",
}
TERMINAL_CSS = f"""\
html,body{{margin:0;background:#1e1e1e}}
pre{{margin:0;padding:{PAD_PX}px;color:#cccccc;white-space:pre;
font:{FONT_PX}px/{LINE_PX}px "DejaVu Sans Mono",monospace}}
.prompt{{color:#23d18b}}.bold{{font-weight:bold}}
"""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SGR = re.compile(r"\x1b\[([0-9;]*)m")


class ScreenshotError(Exception):
    """Something is not as the screenshots need it; the message says what."""


# -- processes -----------------------------------------------------------------------


def clean_environ(home: Path) -> dict[str, str]:
    """This process's environment without anything that steers Flask, gunicorn or
    the guard (production mode is the default), and with ``home`` as HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(STEERING_PREFIXES)}
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        env.pop(name, None)
    env.update(HOME=str(home), FLASK_SKIP_DOTENV="1", PYTHONUNBUFFERED="1")
    return env


def venv_program(name: str) -> Path:
    """The program ``name`` installed next to this Python."""
    path = BIN / name
    if not path.exists():
        raise ScreenshotError(f"{path} not found: pip install -e '.[gunicorn]' first")
    return path


def free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM ``proc``'s process group; SIGKILL it if it has not exited in time."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(TIMEOUT / 3)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of the file at ``path``."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# -- the error page ------------------------------------------------------------------


@contextlib.contextmanager
def demo_server(workdir: Path) -> Iterator[int]:
    """Serve ``examples/demo.py`` on gunicorn, as the README does; yield its port."""
    port = free_port()
    argv = [str(venv_program("gunicorn")), "--chdir", "examples"]
    argv += ["--bind", f"127.0.0.1:{port}", "demo:create_app()"]
    log = workdir / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=clean_environ(workdir),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_answers(port, proc, log)
        yield port
    finally:
        stop_group(proc)


def get(port: int, path: str) -> tuple[int, dict[str, str], str]:
    """GET ``path`` from 127.0.0.1:``port``: status, headers and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", path, headers={"Accept": "text/html"})
        response = conn.getresponse()
        body = response.read().decode("utf-8", errors="replace")
        return response.status, dict(response.getheaders()), body
    finally:
        conn.close()


def wait_until_answers(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the server answers ``/`` with 200; fail if it exits or takes too long."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ScreenshotError(
                f"gunicorn exited with status {proc.returncode}:\n{tail(log)}"
            )
        with contextlib.suppress(OSError, http.client.HTTPException):
            if get(port, "/")[0] == 200:
                return
        time.sleep(0.1)
    raise ScreenshotError(f"gunicorn did not answer within {TIMEOUT:g} s:\n{tail(log)}")


def verify_error_page(port: int) -> None:
    """Check that ``ERROR_PATH`` gives the guard's generic 500 page."""
    status, headers, body = get(port, ERROR_PATH)
    error_id = headers.get("X-Error-ID", "")
    problems = []
    if status != 500:
        problems.append(f"status {status}, not 500")
    if not error_id or error_id not in body:
        problems.append(f"error id {error_id!r} missing from the X-Error-ID header or the page")
    for leak in LEAKS:
        if leak in body:
            problems.append(f"the page shows {leak!r}")
    if problems:
        raise ScreenshotError(
            f"{ERROR_PATH} is not the generic error page: " + "; ".join(problems)
        )


# -- the check output ----------------------------------------------------------------


def read_terminal(fd: int, proc: subprocess.Popen[bytes]) -> bytes:
    """Everything written to the pseudo-terminal ``fd`` until ``proc`` closes it."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + TIMEOUT
    while (remaining := deadline - time.monotonic()) > 0:
        if not select.select([fd], [], [], remaining)[0]:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other end is closed
            chunk = b""
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
    proc.kill()
    raise ScreenshotError(f"{proc.args!r} did not finish within {TIMEOUT:g} s")


def run_on_terminal(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[str, int]:
    """Run ``argv`` with stdout and stderr on a pseudo-terminal; its output and exit code.

    click keeps its colours only when it writes to a terminal.
    """
    primary, secondary = os.openpty()
    try:
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=secondary,
                stderr=secondary,
            )
        finally:
            os.close(secondary)  # the child has its own copy
        output = read_terminal(primary, proc)
    finally:
        os.close(primary)
    code = proc.wait(TIMEOUT)
    return output.decode("utf-8", errors="replace").replace("\r\n", "\n"), code


def run_check(workdir: Path) -> tuple[str, int]:
    """Run ``flask prodguard check`` on ``UNSAFE_APP``; its output and exit code."""
    (workdir / "app.py").write_text(UNSAFE_APP)
    argv = [str(venv_program("flask")), *CHECK_ARGV[1:]]
    output, code = run_on_terminal(argv, workdir, clean_environ(workdir))
    if code != 1 or "PG101" not in output:
        raise ScreenshotError(
            f"flask prodguard check exited {code} (expected 1, findings):\n{output}"
        )
    return output, code


def span(text: str, bold: bool, colour: int | None) -> str:
    """``text`` HTML-escaped, in a span styled as the terminal showed it."""
    escaped = html.escape(text)
    if not text or (not bold and colour is None):
        return escaped
    style = f' style="color:{PALETTE[colour]}"' if colour is not None else ""
    weight = ' class="bold"' if bold else ""
    return f"<span{weight}{style}>{escaped}</span>"


def ansi_to_html(text: str) -> str:
    """Terminal text with SGR codes (bold, 8 foreground colours) as HTML."""
    parts = SGR.split(text)
    out = [span(parts[0], False, None)]
    bold, colour = False, None
    for codes, chunk in zip(parts[1::2], parts[2::2], strict=True):
        for code in [int(c) for c in codes.split(";") if c] or [0]:
            if code == 0:
                bold, colour = False, None
            elif code in (1, 22):
                bold = code == 1
            elif code == 39:
                colour = None
            elif code in PALETTE:
                colour = code
            else:
                raise ScreenshotError(f"unexpected terminal code {code} in {text!r}")
        out.append(span(chunk, bold, colour))
    html_text = "".join(out)
    if "\x1b" in html_text:
        raise ScreenshotError(f"unexpected escape sequence in {text!r}")
    return html_text


def prompt(command: str) -> str:
    """A shell prompt line with ``command``, as HTML."""
    return f'<span class="prompt">$</span> {html.escape(command)}'


def terminal_page(output: str, code: int) -> tuple[str, tuple[int, int]]:
    """A terminal-looking HTML page showing the command, its output and exit code;
    and the window size in which all of it fits."""
    command = " ".join(CHECK_ARGV)
    output_lines = output.rstrip("\n").split("\n")
    lines = [prompt(command), *map(ansi_to_html, output_lines), prompt("echo $?"), str(code)]
    columns = max(len(SGR.sub("", line)) for line in [f"$ {command}", *output_lines])
    width = math.ceil(columns * CHAR_EM * FONT_PX) + 2 * PAD_PX
    height = len(lines) * LINE_PX + 2 * PAD_PX
    body = "\n".join(lines)
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<style>\n{TERMINAL_CSS}</style></head>\n<body><pre>{body}</pre></body></html>\n"
    )
    return page, (width, height)


# -- screenshots ---------------------------------------------------------------------


def find_chromium(path: str | None) -> str:
    """The Chromium to use: ``path``, or ``chromium`` on PATH."""
    program = path or "chromium"
    found = shutil.which(program)
    if found is None:
        raise ScreenshotError(
            f"{program} not found: apt-get install chromium (or pass --chromium PATH)"
        )
    return found


def screenshot(
    chromium: str, url: str, png: Path, size: tuple[int, int], workdir: Path
) -> None:
    """Open ``url`` in headless Chromium with a ``size`` window and save it as ``png``.

    The sandbox is off (it cannot run as root or in many containers): Chromium
    only loads pages that this script serves or writes.
    """
    profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=workdir))
    argv = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        f"--screenshot={png}",
        url,
    ]
    png.unlink(missing_ok=True)
    result = subprocess.run(
        argv, env=clean_environ(workdir), capture_output=True, text=True, timeout=TIMEOUT * 2
    )
    if result.returncode != 0 or not png.exists() or png.read_bytes()[:8] != PNG_SIGNATURE:
        last = "\n".join(result.stderr.splitlines()[-20:])
        raise ScreenshotError(f"chromium exited {result.returncode}, no PNG {png}:\n{last}")


def error_page_screenshot(chromium: str, output: Path, workdir: Path) -> Path:
    """Screenshot the demo's generic 500 page into ``output``."""
    png = output / "error-page.png"
    with demo_server(workdir) as port:
        verify_error_page(port)
        screenshot(
            chromium, f"http://127.0.0.1:{port}{ERROR_PATH}", png, ERROR_PAGE_SIZE, workdir
        )
    return png


def check_output_screenshot(chromium: str, output: Path, workdir: Path) -> Path:
    """Screenshot ``flask prodguard check`` output, as a terminal shows it, into ``output``."""
    png = output / "check-output.png"
    text, code = run_check(workdir)
    page, size = terminal_page(text, code)
    html_file = workdir / "check-output.html"
    html_file.write_text(page, encoding="utf-8")
    screenshot(chromium, html_file.as_uri(), png, size, workdir)
    return png


def png_size(png: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    header = png.read_bytes()[16:24]
    return int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")


def main(argv: list[str] | None = None) -> int:
    """Take both screenshots; print what was written; 1 and a message on failure."""
    parser = argparse.ArgumentParser(description="Take the documentation's screenshots.")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="%(default)s")
    parser.add_argument("--chromium", help="the Chromium program (default: chromium on PATH)")
    args = parser.parse_args(argv)
    try:
        chromium = find_chromium(args.chromium)
        args.output.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="prodguard-screenshots-") as tmp:
            workdir = Path(tmp)
            written = [
                error_page_screenshot(chromium, args.output, workdir),
                check_output_screenshot(chromium, args.output, workdir),
            ]
    except (ScreenshotError, OSError, subprocess.SubprocessError) as error:
        print(f"screenshots.py: error: {error}", file=sys.stderr)
        return 1
    for png in written:
        width, height = png_size(png)
        print(f"wrote {png} ({width}x{height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
