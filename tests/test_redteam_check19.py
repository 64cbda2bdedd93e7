"""Red-team of ``check`` failing closed (issue 19): a hostile app against
``python -m flask_prodguard check`` through the real command line.

The holes found here (``os._exit(0)`` at import or in an ``atexit`` handler,
writes to file descriptor 1 in the report, ``os.close(1)``, a ``sys.stderr``
that exits, a hostile module read for the SARIF location) were closed by
loading and checking the app in a child process
(:mod:`flask_prodguard.tools.check_child`); the last section tries that child:
killed, flooding its output, hanging, forking, exiting from a thread.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

TIMEOUT = 60

BASE = """\
import atexit
import os
import sys

from flask import Flask
from flask_prodguard import ProdGuard

app = Flask(__name__)
app.config.update(
    SECRET_KEY="6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=16777216,
)
"""

#: Terminal escapes and bidi overrides that must never reach a terminal raw.
RAW_ESCAPES = ("\x1b", "\x07", "\u202e")


def check(
    folder: Path,
    source: str,
    output_format: str,
    app: str = "app",
    options: tuple[str, ...] = (),
    stdin: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Write ``app.py`` (BASE + ``source``) in ``folder`` and run check on it
    (with ``options``; ``stdin``, say a pipe left open, for the check)."""
    (folder / "app.py").write_text(BASE + source + "\n", encoding="utf-8")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FLASK_", "PRODGUARD_", "WERKZEUG_"))
    }
    env.update(FLASK_SKIP_DOTENV="1", PYTHONDONTWRITEBYTECODE="1")
    argv = [sys.executable, "-m", "flask_prodguard", "check", "--app", app]
    return subprocess.run(
        [*argv, "--format", output_format, *options],
        stdin=stdin,
        cwd=folder,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=env,
        timeout=TIMEOUT,
    )


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    """Both streams, for assertion messages."""
    return f"status {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def report_ids(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The finding ids of a JSON report on standard output."""
    return [f["id"] for f in json.loads(result.stdout)["findings"]]


# -- the holes, closed -------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["json", "sarif"])
@pytest.mark.parametrize(
    "write",
    ["os.write(1, b'noise\\n')", "sys.__stdout__.write('noise\\n'); sys.__stdout__.flush()"],
    ids=["os.write-fd1", "sys.__stdout__"],
)
def test_fd1_writes_while_loading_keep_the_report_parseable(
    tmp_path: Path, output_format: str, write: str
) -> None:
    """Writes to file descriptor 1 while loading must not corrupt the JSON/SARIF report."""
    result = check(tmp_path, f"{write}\nProdGuard(app)", output_format)
    json.loads(result.stdout)
    assert "noise" in result.stderr  # what the app writes is shown, on standard error


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_os_exit_0_while_loading_fails_the_check(tmp_path: Path, output_format: str) -> None:
    """An app that calls os._exit(0) while loading must not pass the gate."""
    result = check(tmp_path, "app.config['DEBUG'] = True\nos._exit(0)", output_format)
    assert result.returncode == 2, output_of(result)


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_atexit_handler_cannot_turn_findings_green(tmp_path: Path, output_format: str) -> None:
    """DEBUG=True plus atexit.register(lambda: os._exit(0)): still status 1."""
    source = "atexit.register(lambda: os._exit(0))\napp.config['DEBUG'] = True\nProdGuard(app)"
    result = check(tmp_path, source, output_format)
    assert result.returncode == 1, output_of(result)


def test_atexit_sys_exit_prints_no_traceback(tmp_path: Path) -> None:
    """An app's atexit sys.exit(0) leaves no traceback on the CI log."""
    source = "atexit.register(lambda: sys.exit(0))\napp.config['DEBUG'] = True\nProdGuard(app)"
    result = check(tmp_path, source, "text")
    assert result.returncode == 1, output_of(result)
    assert "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_closed_stdout_cannot_lose_the_report(tmp_path: Path, output_format: str) -> None:
    """os.close(1) while loading: the report arrives whole, status 1 (DEBUG=True), no traceback.

    The descriptor the app closes is its process's own: in one process the
    report was lost with it (status 2 in text, a traceback and status 1 in
    JSON); now it closes nothing of the report.
    """
    source = "os.close(1)\napp.config['DEBUG'] = True\nProdGuard(app)"
    result = check(tmp_path, source, output_format)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, output_of(result)
    if output_format == "text":
        assert "PG101" in result.stdout
    else:
        json.loads(result.stdout)


def test_sarif_location_lookup_cannot_exit_0(tmp_path: Path) -> None:
    """A hostile module in sys.modules cannot make the SARIF run end green and empty."""
    source = (
        "class M(type(sys)):\n"
        "    @property\n"
        "    def __dict__(self):\n"
        "        sys.exit(0)\n"
        "sys.modules['zz_hostile'] = M('zz_hostile')\n"
        "app.config['DEBUG'] = True\n"
        "ProdGuard(app)"
    )
    result = check(tmp_path, source, "sarif")
    assert result.returncode == 1, output_of(result)
    json.loads(result.stdout)


def test_sarif_location_search_passes_over_hostile_modules(tmp_path: Path) -> None:
    """When the app's file is searched among all modules (a factory's app, named after no
    module), one whose __dict__ or __file__ exits is passed over: status 1, a location."""
    source = (
        "class M(type(sys)):\n"
        "    @property\n"
        "    def __dict__(self):\n"
        "        sys.exit(0)\n"
        "class F(type(sys)):\n"
        "    @property\n"
        "    def __file__(self):\n"
        "        sys.exit(0)\n"
        "sys.modules['zz_hostile'] = M('zz_hostile')\n"
        "sys.modules['zz_file'] = F('zz_file')\n"
        "def create_app():\n"
        "    made = Flask('no_such_module')\n"
        "    made.config.update(app.config, DEBUG=True)\n"
        "    ProdGuard(made)\n"
        "    sys.modules['zz_file'].held = made\n"
        "    return made"
    )
    result = check(tmp_path, source, "sarif", app="app.py:create_app()")
    assert result.returncode == 1, output_of(result)
    (found,) = json.loads(result.stdout)["runs"][0]["results"]
    location = found["locations"][0]["physicalLocation"]["artifactLocation"]
    assert (found["ruleId"], location["uri"]) == ("PG101", "no_such_module.py")


def test_text_report_app_name_repr_cannot_exit_0(tmp_path: Path) -> None:
    """An app.name str subclass whose __repr__ exits: still status 1 (or 2), never 0."""
    source = (
        "class N(str):\n"
        "    def __repr__(self):\n"
        "        sys.exit(0)\n"
        "app.name = N('shop')\n"
        "app.config['DEBUG'] = True\n"
        "ProdGuard(app)"
    )
    result = check(tmp_path, source, "text")
    assert result.returncode in (1, 2), output_of(result)


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_non_str_app_name_gives_no_traceback(tmp_path: Path, output_format: str) -> None:
    """app.name set to an object whose repr raises: no traceback in any format."""
    source = (
        "class N:\n"
        "    def __repr__(self):\n"
        "        raise ValueError('boom')\n"
        "app.name = N()\n"
        "app.config['DEBUG'] = True\n"
        "ProdGuard(app)"
    )
    result = check(tmp_path, source, output_format)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (1, 2), output_of(result)


@pytest.mark.parametrize("key", ["SECRET_KEY", "SECRET_KEY_FALLBACKS"])
def test_pg309_type_name_escapes_are_not_printed_raw(tmp_path: Path, key: str) -> None:
    """A SECRET_KEY whose class name holds terminal escapes is reported escaped."""
    value = "K()" if key == "SECRET_KEY" else "[K()]"
    source = (
        "K = type('\\x1b]0;pwned\\x07\\u202eEvil', (), {})\n"
        f"app.config[{key!r}] = {value}\n"
        "ProdGuard(app)"
    )
    result = check(tmp_path, source, "text")
    assert result.returncode == 1, output_of(result)
    assert "PG309" in result.stdout
    printed = result.stdout + result.stderr
    assert not [c for c in RAW_ESCAPES if c in printed], printed


def test_app_replaced_stderr_cannot_turn_a_load_failure_green(tmp_path: Path) -> None:
    """A load failure stays status 2 even when the app hijacked sys.stderr."""
    source = (
        "class W:\n"
        "    def write(self, text):\n"
        "        os._exit(0)\n"
        "    def flush(self):\n"
        "        pass\n"
        "sys.stderr = W()\n"
        "raise RuntimeError('broken settings')"
    )
    result = check(tmp_path, source, "text")
    assert result.returncode == 2, output_of(result)


# -- what holds (coverage the suite lacked) --------------------------------------------


@pytest.mark.parametrize(
    ("secret", "check_id"), [("dev", "PG304"), ("abc", "PG302")], ids=["placeholder", "short"]
)
def test_a_str_key_with_a_lying_len_is_still_caught(
    tmp_path: Path, secret: str, check_id: str
) -> None:
    """A SECRET_KEY str subclass whose __len__ says 100 is still a placeholder/short key."""
    source = (
        "class S(str):\n"
        "    def __len__(self):\n"
        "        return 100\n"
        f"app.config['SECRET_KEY'] = S({secret!r})\n"
        "ProdGuard(app)"
    )
    result = check(tmp_path, source, "json")
    assert result.returncode == 1, output_of(result)
    ids = [f["id"] for f in json.loads(result.stdout)["findings"]]
    assert check_id in ids
    assert secret not in result.stderr


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_escapes_in_a_systemexit_message_and_class_name_are_escaped(
    tmp_path: Path, output_format: str
) -> None:
    """ANSI/OSC/bidi in the load error's class name and message never reach the terminal raw."""
    source = (
        "E = type('\\x1b[31mRed\\u202e', (Exception,), {})\n"
        "raise E('\\x1b[2J\\x1b]8;;http://evil\\x07click\\u202e'\n"
        "        ' token=sk_live_abcdefghijklmnop1234')"
    )
    result = check(tmp_path, source, output_format)
    assert result.returncode == 2, output_of(result)
    printed = result.stdout + result.stderr
    assert not [c for c in RAW_ESCAPES if c in printed], printed
    assert "sk_live_abcdefghijklmnop1234" not in printed
    assert len(result.stderr.splitlines()) == 1
    if output_format != "text":
        json.loads(result.stdout)


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_a_huge_load_error_is_capped(tmp_path: Path, output_format: str) -> None:
    """A 5 MB exception message gives one capped line, not 5 MB of CI log."""
    result = check(tmp_path, "raise RuntimeError('A' * 5_000_000)", output_format)
    assert result.returncode == 2, output_of(result)
    assert len(result.stderr) < 20_000
    assert len(result.stdout) < 20_000


@pytest.mark.parametrize("returned", ["object()", "'hello'", "None"])
def test_a_factory_returning_no_flask_app_fails(tmp_path: Path, returned: str) -> None:
    """A factory that returns something other than a Flask app: status 2, valid JSON."""
    source = f"ProdGuard(app)\n\ndef create_app():\n    return {returned}"
    result = check(tmp_path, source, "json", app="app:create_app")
    assert result.returncode == 2, output_of(result)
    assert json.loads(result.stdout)["exit_code"] == 2
    assert "Traceback" not in result.stderr


def test_a_replaced_sys_stdout_does_not_swallow_the_report(tmp_path: Path) -> None:
    """An app that sets sys.stdout to a StringIO at import: the report still reaches stdout."""
    source = "import io\nsys.stdout = io.StringIO()\napp.config['DEBUG'] = True\nProdGuard(app)"
    result = check(tmp_path, source, "json")
    assert result.returncode == 1, output_of(result)
    assert [f["id"] for f in json.loads(result.stdout)["findings"]] == ["PG101"]


def test_fallbacks_whose_iteration_exits_fail_the_check(tmp_path: Path) -> None:
    """SECRET_KEY_FALLBACKS list whose __iter__/__len__ call sys.exit(0): status 2, not 0."""
    source = (
        "class L(list):\n"
        "    def __iter__(self):\n"
        "        sys.exit(0)\n"
        "    __len__ = __bool__ = __iter__\n"
        "app.config['SECRET_KEY_FALLBACKS'] = L(['dev'])\n"
        "ProdGuard(app)"
    )
    result = check(tmp_path, source, "json")
    assert result.returncode == 2, output_of(result)
    assert json.loads(result.stdout)["exit_code"] == 2


# -- the child that loads the app, attacked ---------------------------------------------


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_a_child_killed_by_a_signal_fails_the_check(tmp_path: Path, output_format: str) -> None:
    """SIGKILL to itself at import: status 2, the signal named, a valid failure report."""
    source = "app.config['DEBUG'] = True\nos.kill(os.getpid(), 9)"
    result = check(tmp_path, source, output_format)
    assert result.returncode == 2, output_of(result)
    assert result.stderr.splitlines() == [
        "Error: the process that loads the app was killed by SIGKILL before it wrote the report"
    ]
    if output_format == "json":
        assert json.loads(result.stdout)["exit_code"] == 2
    elif output_format == "sarif":
        run = json.loads(result.stdout)["runs"][0]
        assert run["results"] == []
        assert run["invocations"][0]["executionSuccessful"] is False


def test_output_that_looks_like_a_report_stays_out_of_it(tmp_path: Path) -> None:
    """An app printing a clean-looking JSON report (print, fd 1) does not replace the report."""
    fake = json.dumps({"app": "app", "findings": [], "exit_code": 0})
    source = (
        f"print({fake!r})\n"
        f"os.write(1, {fake.encode()!r} + b'\\n')\n"
        f"sys.__stdout__.write({fake!r})\n"
        "app.config['DEBUG'] = True\n"
        "ProdGuard(app)"
    )
    result = check(tmp_path, source, "json")
    assert result.returncode == 1, output_of(result)
    assert report_ids(result) == ["PG101"]
    assert result.stderr.count(fake) == 3


def test_100_mb_of_output_while_loading_does_not_stall_the_check(tmp_path: Path) -> None:
    """100 MB to descriptors 1 and 2 at import: the pipe is drained, the report is whole."""
    source = (
        "chunk = b'x' * (1 << 20)\n"
        "for n in range(100):\n"
        "    os.write(1 + n % 2, chunk)\n"
        "app.config['DEBUG'] = True\n"
        "ProdGuard(app)"
    )
    result = check(tmp_path, source, "json")
    assert result.returncode == 1, f"status {result.returncode}\n{result.stdout}"
    assert report_ids(result) == ["PG101"]
    assert result.stderr.count("x") == 100 << 20


def process_gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie nobody reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


@pytest.fixture
def pid_file(tmp_path: Path) -> Iterator[Path]:
    """The file where a test app writes the pid of a process it starts or is; that
    process is killed after the test, whatever happened."""
    pid_file = tmp_path / "grandchild.pid"
    yield pid_file
    if pid_file.exists():
        pid = int(pid_file.read_text())
        if not process_gone(pid):
            os.kill(pid, signal.SIGKILL)


#: An app that forks a process that sleeps for ten minutes holding the output
#: pipe; with setsid() it leaves the child's process group. The child waits
#: until that is done, then writes the pid.
FORKING = """\
import time
read_end, write_end = os.pipe()
pid = os.fork()
if pid == 0:
    if {setsid}:
        os.setsid()
    os.write(write_end, b"1")
    time.sleep(600)
    os._exit(0)
os.read(read_end, 1)
with open("grandchild.pid", "w") as file:
    file.write(str(pid))
app.config['DEBUG'] = True
ProdGuard(app)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_forked_process_left_in_the_group_is_stopped(tmp_path: Path, pid_file: Path) -> None:
    """A process the app forks at import is killed when the check ends; the report is whole."""
    start = time.monotonic()
    result = check(tmp_path, FORKING.format(setsid=False), "json")
    assert result.returncode == 1, output_of(result)
    assert report_ids(result) == ["PG101"]
    assert time.monotonic() - start < 30
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_gone(pid)


def test_a_process_out_of_the_group_holding_the_pipe_does_not_hang_the_check(
    tmp_path: Path, pid_file: Path
) -> None:
    """A forked process that calls setsid() and keeps the output pipe open: the check ends."""
    start = time.monotonic()
    result = check(tmp_path, FORKING.format(setsid=True), "json")
    assert result.returncode == 1, output_of(result)
    assert report_ids(result) == ["PG101"]
    assert time.monotonic() - start < 30  # the process still sleeps, for ten minutes


def test_a_thread_that_exits_after_the_report_cannot_change_the_status(tmp_path: Path) -> None:
    """A thread woken by the child's last flush calls os._exit(0): the report stands (1)."""
    source = (
        "import threading\n"
        "gate = threading.Event()\n"
        "class W:\n"
        "    def write(self, text):\n"
        "        return len(text)\n"
        "    def flush(self):\n"
        "        gate.set()\n"
        "        threading.Event().wait()  # until the thread ends the process\n"
        "def later():\n"
        "    gate.wait()\n"
        "    os._exit(0)\n"
        "threading.Thread(target=later).start()\n"
        "sys.stderr = W()\n"
        "app.config['DEBUG'] = True\n"
        "ProdGuard(app)"
    )
    result = check(tmp_path, source, "json")
    assert result.returncode == 1, output_of(result)
    assert report_ids(result) == ["PG101"]


def test_a_thread_that_never_ends_does_not_hang_the_check(tmp_path: Path) -> None:
    """A non-daemon thread blocked for ever (in one process, the exit would wait for it)."""
    source = (
        "import threading\n"
        "threading.Thread(target=threading.Event().wait).start()\n"
        "app.config['DEBUG'] = True\n"
        "ProdGuard(app)"
    )
    result = check(tmp_path, source, "json")
    assert result.returncode == 1, output_of(result)
    assert report_ids(result) == ["PG101"]


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_an_app_that_hangs_fails_at_the_timeout(tmp_path: Path, output_format: str) -> None:
    """An app that blocks for ever while it loads: status 2 once --timeout has passed."""
    source = "import threading\nthreading.Event().wait()"
    start = time.monotonic()
    result = check(tmp_path, source, output_format, options=("--timeout", "1"))
    assert result.returncode == 2, output_of(result)
    assert time.monotonic() - start < 30
    reason = (
        "the app was not loaded and checked within --timeout 1 seconds;"
        " its processes were stopped"
    )
    assert result.stderr.splitlines() == [f"Error: {reason}"]
    if output_format == "json":
        assert json.loads(result.stdout) == {"error": reason, "exit_code": 2}


def test_an_app_that_reads_standard_input_gets_end_of_file(tmp_path: Path) -> None:
    """sys.stdin.read() at import returns at once, though the check's own stdin stays open."""
    source = (
        "print('rt19 read', repr(sys.stdin.read()), file=sys.stderr)\n"
        "app.config['DEBUG'] = True\n"
        "ProdGuard(app)"
    )
    read_end, write_end = os.pipe()  # nothing is ever written, and it stays open
    try:
        result = check(tmp_path, source, "json", stdin=read_end)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert result.returncode == 1, output_of(result)
    assert "rt19 read ''" in result.stderr


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_the_child_ends_with_the_check(tmp_path: Path, pid_file: Path, signum: int) -> None:
    """Ctrl+C or SIGKILL to the check (a cancelled CI job) while the app hangs: the child,
    in a session of its own, does not live on, nor does the report's temporary file;
    Ctrl+C is status 2, said so."""
    (tmp_path / "app.py").write_text(
        BASE
        + "import threading\n"
        + "with open('grandchild.pid', 'w') as file:\n"
        + "    file.write(str(os.getpid()))\n"
        + "threading.Event().wait()\n"
    )
    temporary = tmp_path / "tmp"  # where the report's file is made
    temporary.mkdir()
    env = dict(os.environ, FLASK_SKIP_DOTENV="1", TMPDIR=str(temporary))
    argv = [sys.executable, "-m", "flask_prodguard", "check", "--app", "app"]
    with subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as command:
        deadline = time.monotonic() + TIMEOUT
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and command.poll() is None
            time.sleep(0.05)
        command.send_signal(signum)
        stdout, stderr = command.communicate(timeout=TIMEOUT)
    if signum == signal.SIGINT:
        assert (command.returncode, stdout) == (2, ""), stderr
        assert stderr.splitlines() == ["Error: the check was interrupted"]
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_gone(pid)
    assert list(temporary.iterdir()) == []
