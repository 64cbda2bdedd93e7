"""``run-tests``, the README's test command, and ``require_program``, the tests' side of it.

The script runs for real, copied into ``tmp_path``, against a fake system: a
``$PATH`` of stand-in programs (``id``, ``sudo``, ``apt-get``, the Debian
programs, the venv's ``python`` and ``pip``, each writing its arguments to a
log) and ``RUN_TESTS_SYSROOT`` pointing at an empty directory in place of
``/``. Nothing is installed and the suite does not run itself.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

import servers
from servers import require_program

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "run-tests"
CI_RUN = ROOT / ".ci" / "run"
FONT = "usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
MOD_WSGI = "usr/lib/apache2/modules/mod_wsgi.so"
#: Every Debian package, in the order the script hands them to apt-get.
EVERY_PACKAGE = (
    "python3 python3-venv nginx-light apache2 libapache2-mod-wsgi-py3 systemd mtail prometheus"
    " prometheus-alertmanager chromium fonts-dejavu-core"
)
#: The programs of those packages that the checks look for (nginx and apache2 are in
#: /usr/sbin: SBIN_PROGRAMS).
PROGRAMS = (
    "systemd-analyze",
    "mtail",
    "prometheus",
    "promtool",
    "prometheus-alertmanager",
    "amtool",
    "chromium",
)
#: The programs the checks look for in /usr/sbin, off an ordinary user's $PATH.
SBIN_PROGRAMS = ("nginx", "apache2", "apachectl")
#: Real programs that the scripts and the fake programs use.
REAL_TOOLS = ("env", "cmp", "cp", "dirname", "true", "mkdir", "touch", "chmod")


@dataclasses.dataclass
class FakeSystem:
    """A project directory with a copy of the script, and a fake system to run it on."""

    tmp_path: Path

    def __post_init__(self) -> None:
        self.project.mkdir()
        shutil.copy2(SCRIPT, self.project / "run-tests")
        shutil.copy2(ROOT / "pyproject.toml", self.project / "pyproject.toml")
        (self.project / ".ci").mkdir()
        shutil.copy2(CI_RUN, self.project / ".ci" / "run")
        self.bin.mkdir()
        self.sysroot.mkdir()
        self.log.touch()
        for tool in REAL_TOOLS:
            real = shutil.which(tool)
            assert real is not None, tool
            (self.bin / tool).symlink_to(real)
        self.user(1000)

    @property
    def project(self) -> Path:
        return self.tmp_path / "project"

    @property
    def bin(self) -> Path:
        return self.tmp_path / "bin"

    @property
    def sysroot(self) -> Path:
        return self.tmp_path / "root"

    @property
    def log(self) -> Path:
        return self.tmp_path / "calls.log"

    def program(self, path: Path, body: str = "exit 0", *, log: bool = True) -> None:
        """An executable sh script at ``path`` that logs its name and arguments first."""
        path.parent.mkdir(parents=True, exist_ok=True)
        first = f'echo "{path.name}: $*" >> "{self.log}"\n' if log else ""
        path.write_text(f"#!/bin/sh\n{first}{body}\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    def user(self, uid: int) -> None:
        """``id -u`` answers ``uid``."""
        (self.bin / "id").unlink(missing_ok=True)
        self.program(self.bin / "id", f"echo {uid}", log=False)

    def install_everything(self) -> None:
        """Every program and file the checks look for, the venv and its python too."""
        for name in PROGRAMS:
            self.program(self.bin / name)
        for name in SBIN_PROGRAMS:
            self.program(self.sysroot / "usr" / "sbin" / name)
        self.files()
        self.venv()

    def files(self) -> None:
        """The font and Apache's mod_wsgi: the files (not programs) the checks look for."""
        for name in (FONT, MOD_WSGI):
            (self.sysroot / name).parent.mkdir(parents=True, exist_ok=True)
            (self.sysroot / name).touch()

    def venv(self) -> None:
        """A .venv whose python logs ``CI`` and its arguments and exits 3, and a pip."""
        venv_bin = self.project / ".venv" / "bin"
        self.program(venv_bin / "python", f'echo "CI=${{CI-unset}}" >> "{self.log}"\nexit 3')
        self.program(venv_bin / "pip")

    def calls(self) -> list[str]:
        """What the fake programs were called with, in order."""
        return self.log.read_text().splitlines()

    def run(self, *args: str, script: str = "run-tests") -> subprocess.CompletedProcess[str]:
        """Run the copy of ``script`` with only the fake programs on $PATH."""
        env = {"PATH": str(self.bin), "RUN_TESTS_SYSROOT": str(self.sysroot)}
        return subprocess.run(
            [str(self.project / script), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )


@pytest.fixture
def system(tmp_path: Path) -> FakeSystem:
    """A fake system with nothing installed, an ordinary user (uid 1000), no sudo."""
    return FakeSystem(tmp_path)


# -- the scripts themselves ----------------------------------------------------------


@pytest.mark.parametrize("script", [SCRIPT, CI_RUN], ids=["run-tests", ".ci/run"])
def test_scripts_are_executable_posix_sh(script: Path) -> None:
    """Both scripts start with #!/bin/sh, are executable and pass ``sh -n``."""
    assert script.read_text().startswith("#!/bin/sh\n")
    assert os.access(script, os.X_OK), f"chmod +x {script.relative_to(ROOT)}"
    result = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_script_and_helper_name_the_same_packages() -> None:
    """Each program the script checks maps to the package that require_program names."""
    checked: dict[str, str] = {}
    for package, things in re.findall(r"^\s*need (\S+) (.+)$", SCRIPT.read_text(), re.M):
        for thing in things.split():
            if not thing.startswith("/") and package != "python3":
                checked[thing] = package
    assert checked == servers.DEBIAN_PACKAGES


# -- when it may not install -----------------------------------------------------------


@pytest.mark.parametrize(
    ("there", "expected"),
    [
        ("nothing", EVERY_PACKAGE),
        ("python without venv", "python3-venv"),
        ("some", "systemd prometheus-alertmanager chromium"),
    ],
)
@pytest.mark.parametrize("sudo", ["asks for a password", "absent"])
def test_stops_at_once_with_the_apt_get_line(
    system: FakeSystem, there: str, expected: str, sudo: str
) -> None:
    """Not root and no password-less sudo: exit 1 with the exact apt-get line, nothing done."""
    if there == "python without venv":
        system.install_everything()
        shutil.rmtree(system.project / ".venv")
        system.program(system.bin / "python3", "exit 1", log=False)  # no ensurepip
    elif there == "some":
        system.venv()
        # nginx and Apache in sbin, off $PATH; Alertmanager's amtool without the server.
        for name in SBIN_PROGRAMS:
            system.program(system.sysroot / "usr" / "sbin" / name)
        for name in ("mtail", "prometheus", "promtool", "amtool"):
            system.program(system.bin / name)
        system.files()
    if sudo == "asks for a password":
        system.program(system.bin / "sudo", "exit 1")
    system.program(system.bin / "apt-get")
    before = sorted(p.name for p in system.project.iterdir())

    result = system.run("-x")

    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"run-tests: missing Debian packages: {expected}"
    if sudo == "absent":
        assert lines[-1] == f"    apt-get install {expected}"
        assert "as root" in lines[-2]
        assert system.calls() == []
    else:
        assert lines[-1] == f"    sudo apt-get install {expected}"
        assert "password" in lines[-2]
        assert system.calls() == ["sudo: -n true"]  # never a prompt, never apt-get
    assert sorted(p.name for p in system.project.iterdir()) == before  # no .venv made


def test_without_apt_get_it_says_so(system: FakeSystem) -> None:
    """As root on a system without apt-get: exit 1, saying there is no apt-get."""
    system.user(0)
    system.venv()
    result = system.run()
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("run-tests: no apt-get here")
    assert system.calls() == []


# -- when it may install -----------------------------------------------------------------


def fake_apt_get(system: FakeSystem, *, works: bool) -> None:
    """An apt-get that logs $DEBIAN_FRONTEND and, if it ``works``, installs everything."""
    sbin = system.sysroot / "usr" / "sbin"
    font = system.sysroot / FONT
    mod_wsgi = system.sysroot / MOD_WSGI
    body = [f'echo "DEBIAN_FRONTEND=${{DEBIAN_FRONTEND-unset}}" >> "{system.log}"']
    if works:
        body.append('[ "$1" = install ] || exit 0')
        body.append(f'mkdir -p "{sbin}" "{font.parent}" "{mod_wsgi.parent}"')
        body.append(f'touch "{font}" "{mod_wsgi}"')
        for stub in [
            *(system.bin / name for name in PROGRAMS),
            *(sbin / name for name in SBIN_PROGRAMS),
        ]:
            body.append(f'printf \'#!/bin/sh\\n\' > "{stub}" && chmod +x "{stub}"')
    system.program(system.bin / "apt-get", "\n".join(body))


@pytest.mark.parametrize("as_root", ["root", "sudo"])
def test_installs_what_is_missing_then_runs_pytest(system: FakeSystem, as_root: str) -> None:
    """As root or through password-less sudo: apt-get update and install, then pytest."""
    system.venv()
    (system.project / ".venv" / "run-tests-pyproject.toml").write_bytes(
        (system.project / "pyproject.toml").read_bytes()
    )
    fake_apt_get(system, works=True)
    apt_get = "env DEBIAN_FRONTEND=noninteractive apt-get"
    if as_root == "root":
        system.user(0)
        via = []
    else:
        system.program(system.bin / "sudo", '[ "$1" = -n ] && shift\nexec "$@"')
        via = ["sudo: -n true", f"sudo: -n {apt_get} update -qq"]

    result = system.run("-x", "tests/test_readme.py")

    assert result.returncode == 3, result.stderr  # the status of pytest, passed on
    packages = EVERY_PACKAGE.removeprefix("python3 python3-venv ")
    assert system.calls() == [
        *via,
        "apt-get: update -qq",
        "DEBIAN_FRONTEND=noninteractive",
        *([f"sudo: -n {apt_get} install -y -qq {packages}"] if via else []),
        f"apt-get: install -y -qq {packages}",
        "DEBIAN_FRONTEND=noninteractive",
        "python: -m pytest -x tests/test_readme.py",
        "CI=unset",
    ]


def test_stops_when_apt_get_leaves_something_missing(system: FakeSystem) -> None:
    """Packages still missing after apt-get install: exit 1 naming them, pytest not run."""
    system.user(0)
    system.venv()
    fake_apt_get(system, works=False)
    result = system.run()
    assert result.returncode == 1
    packages = EVERY_PACKAGE.removeprefix("python3 python3-venv ")
    assert result.stderr.splitlines()[-1] == (
        f"run-tests: still missing after apt-get install: {packages}"
    )
    assert not any(call.startswith("python") for call in system.calls())


# -- when everything is there ------------------------------------------------------------


def test_everything_there_installs_nothing_and_pip_runs_once(system: FakeSystem) -> None:
    """With every package there, no apt-get; pip runs once, again only for a new pyproject."""
    system.install_everything()
    system.program(system.bin / "sudo", "exit 1")
    system.program(system.bin / "apt-get")
    pytest_call = ["python: -m pytest -k x", "CI=unset"]

    assert system.run("-k", "x").returncode == 3
    assert system.calls() == ["pip: install -q -e .[test]", *pytest_call]
    assert system.run("-k", "x").returncode == 3
    assert system.calls() == ["pip: install -q -e .[test]", *pytest_call * 2]

    with (system.project / "pyproject.toml").open("a") as pyproject:
        pyproject.write("# a new dependency\n")
    system.log.write_text("")
    assert system.run("-k", "x").returncode == 3
    assert system.calls() == ["pip: install -q -e .[test]", *pytest_call]


def test_ci_run_runs_the_script_in_ci_mode(system: FakeSystem) -> None:
    """.ci/run runs run-tests from the top of the project, with CI=true and the args."""
    system.install_everything()
    (system.project / ".venv" / "run-tests-pyproject.toml").write_bytes(
        (system.project / "pyproject.toml").read_bytes()
    )
    result = system.run("-q", script=".ci/run")
    assert result.returncode == 3, result.stderr
    assert system.calls() == ["python: -m pytest -q", "CI=true"]


# -- require_program -----------------------------------------------------------------------


@pytest.fixture
def empty_search_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """require_program searches only an empty directory, which it returns."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(servers, "VENV_BIN", empty)
    monkeypatch.setattr(servers, "SBIN_DIRS", ())
    return empty


def test_require_program_finds_a_program_in_sbin(
    empty_search_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program off $PATH in an sbin directory (nginx in /usr/sbin) is found."""
    sbin = tmp_path / "sbin"
    sbin.mkdir()
    (sbin / "nginx").write_text("#!/bin/sh\n")
    (sbin / "nginx").chmod(0o755)
    monkeypatch.setattr(servers, "SBIN_DIRS", (str(sbin),))
    monkeypatch.setenv("CI", "true")  # not found would fail this test, not skip it
    assert require_program("nginx") == str(sbin / "nginx")


@pytest.mark.parametrize(
    ("program", "line"),
    [
        (
            "promtool",
            "promtool is not installed (Debian package prometheus:"
            " apt-get install prometheus; ./run-tests installs it)",
        ),
        (
            "supervisord",
            "supervisord is not installed (Python package supervisor:"
            " .venv/bin/pip install -e '.[test]'; ./run-tests installs it)",
        ),
    ],
)
@pytest.mark.parametrize("ci", [None, "false", "true"])
def test_missing_program_is_one_line_skipped_or_failed_in_ci(
    empty_search_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    program: str,
    line: str,
    ci: str | None,
) -> None:
    """A missing program ends the test with one line naming it and its package:
    a skip outside CI, a failure in CI (CI=true)."""
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    # Both caught: a skip where a failure is due must fail this test, not skip it.
    with pytest.raises((pytest.fail.Exception, pytest.skip.Exception)) as raised:
        require_program(program)
    expected = pytest.fail.Exception if ci == "true" else pytest.skip.Exception
    assert type(raised.value) is expected
    assert raised.value.msg == line


def test_a_program_of_no_package_is_an_error() -> None:
    """A program in neither table is a KeyError: each must say which package it comes from."""
    with pytest.raises(KeyError):
        require_program("no-such-program")
