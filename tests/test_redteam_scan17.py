"""Red team for issue 17's scan as it landed on 2026-12-06: a tree shared among
forked processes, decorators followed through their wrappers, deployment gates
read only where they decide, ``str`` methods with arguments, and the default of
``config.get(KEY, True)`` where nothing else names the key.

The scan is a CI gate that must fail closed, and its report must not depend on
how many processes made it. Each attack that works is marked
``xfail(strict=True, raises=AssertionError)``, its reason naming the hole and
the fix (any other error is a real failure, not an expected one); the plain
tests are attacks that failed and cover ground tests/test_scan*.py does not.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from click.testing import CliRunner
from flask_prodguard.tools import scan as scan_module
from flask_prodguard.tools import scan_analysis
from flask_prodguard.tools.cli import scan_command
from flask_prodguard.tools.scan import ScanReport
from flask_prodguard.tools.scan import scan

pytestmark = pytest.mark.timeout(60)

needs_fork = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(os, "fork"),
    reason="a tree is shared among forked processes on Linux only",
)

F = TypeVar("F")

#: The numbers of processes every shared report is compared over.
JOBS = (1, 2, 3, 4, 5)


def hole(reason: str) -> pytest.MarkDecorator:
    """An attack that works today: strict, and only an assertion counts."""
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"HOLE: {reason}")


def closed(reason: str) -> Callable[[F], F]:
    """A hole closed since: the test runs as a plain test, the reason kept as its history."""
    return lambda test: test


def closed_case(reason: str) -> tuple[()]:
    """:func:`closed` for one case of a parametrized test (no marks)."""
    return ()


def write(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative name -> text, dedented) under ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def seen(report: ScanReport) -> tuple[object, ...]:
    """What a user sees of a report: findings with their chains, files not
    analysed, counts (not the time it took)."""
    return (report.findings, report.skipped, report.files, report.lines, report.analysed)


def found(report: ScanReport) -> list[tuple[str, str, int]]:
    """(file name, rule, line) of every finding."""
    return [(Path(f.path).name, f.rule, f.line) for f in report.findings]


def by_jobs(root: Path, forks: list[int]) -> dict[int, tuple[object, ...]]:
    """The report of ``root`` scanned by each number of processes of :data:`JOBS`."""
    reports = {jobs: seen(scan([root], jobs=jobs)) for jobs in JOBS}
    if not forks:
        # Not an AssertionError: a comparison of one process with itself
        # proves nothing, and must not pass as the expected failure.
        raise RuntimeError("no process was forked (another thread runs?)")
    return reports


def differing(reports: dict[int, tuple[object, ...]]) -> dict[int, tuple[object, ...]]:
    """The reports unlike the one of a single process."""
    return {jobs: report for jobs, report in reports.items() if report != reports[1]}


def no_children_left() -> bool:
    """Every forked process has been waited for."""
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


# --- 1. A shared tree's report is not the report of one process ---------------------------

#: Comment lines with a sink word: they make a module weigh in the cut of the
#: shares as a module that can hold a sink does.
PAD = "# DEBUG comes from the settings module of libs/ (padding)\n" * 10


@needs_fork
@closed(
    "a module's sys.path.insert() adds to Project.search_path only in the share that "
    "collects it; web.py of another share then cannot resolve 'from settings import DEBUG' "
    "(two settings modules: libs/ decides) and the finding is lost with jobs>=3 (exit 0, "
    "jobs=1 exit 1). Fix: collect every module that changes sys.path (found by text, like "
    "the environment writers) in every share, in the tree's order, before any module runs."
)
def test_sys_path_set_by_a_module_of_another_share_is_kept(
    tmp_path: Path, forks: list[int]
) -> None:
    """A directory put on sys.path by boot.py resolves web.py's import in every share."""
    write(
        tmp_path,
        {
            "boot.py": "import sys\nsys.path.insert(0, 'libs')\n" + PAD,
            "web.py": "from flask import Flask\nfrom settings import DEBUG\n"
            "app = Flask(__name__)\napp.config['DEBUG'] = DEBUG\n" + PAD,
            "libs/settings.py": "DEBUG = True\n",
            "other/settings.py": "DEBUG = False\n",
        },
    )
    reports = by_jobs(tmp_path, forks)
    assert len(reports[1][0]) == 1  # type: ignore[arg-type]
    assert differing(reports) == {}


#: A factory class whose __init__ costs about 61,000 steps of the 100,000 a file
#: may take (three nested loops over known tuples).
COSTLY_FACTORY = """\
from flask import Flask
T = ({sixty},)
T2 = ({sixteen},)
class Factory:
    def __init__(self):
        for a in T:
            for b in T:
                for c in T2:
                    pass
        self.flag = True
    def build(self):
        return Flask(__name__)
"""


def costly_tree(root: Path) -> Path:
    """b_app's app is decided once per process (cached): by a_first where one
    process runs both, by c_second itself where it runs in another share."""
    factory = COSTLY_FACTORY.format(
        sixty=", ".join(map(str, range(60))), sixteen=", ".join(map(str, range(16)))
    )
    return write(
        root,
        {
            "a_first.py": "from b_app import app\napp.run(debug=False)\n",
            "b_app.py": "from d_factory import Factory\napp = Factory().build()\n",
            "c_second.py": "from d_factory import Factory\nfrom b_app import app\n"
            "w = Factory()\napp.run(debug=w.flag)\n",
            "d_factory.py": factory,
        },
    )


@needs_fork
@closed(
    "the 100,000-step budget of a file (Project.work) pays for what an Analyser caches "
    "(app_made of another module): with one process a_first pays for b_app's app, in a "
    "share c_second pays for it too and goes over: 'too costly', its finding dropped. "
    "Fix: decide every module's apps once, on a budget of their own, before the modules "
    "run (or charge a cached decision to every file that uses it, in every process)."
)
def test_a_decision_cached_by_another_share_costs_the_same(
    tmp_path: Path, forks: list[int]
) -> None:
    """c_second's finding, and no file too costly, whatever the number of processes."""
    assert differing(by_jobs(costly_tree(tmp_path), forks)) == {}


@needs_fork
@closed(
    "same cause as test_a_decision_cached_by_another_share_costs_the_same: with "
    "--allow-skipped the gate is green with --jobs 4 (the finding dropped as 'too costly') "
    "and red with --jobs 1. Fix: as there."
)
def test_allow_skipped_exit_status_does_not_depend_on_jobs(
    tmp_path: Path, forks: list[int]
) -> None:
    """``scan --allow-skipped`` exits with one status whatever --jobs says."""
    costly_tree(tmp_path)
    runner = CliRunner()
    statuses = {
        jobs: runner.invoke(
            scan_command, ["--allow-skipped", "--jobs", str(jobs), str(tmp_path)]
        ).exit_code
        for jobs in JOBS
    }
    if not forks:
        raise RuntimeError("no process was forked (another thread runs?)")
    assert len(set(statuses.values())) == 1, statuses


#: configure() turns DEBUG on, then off unless ``keep``: off for the first caller
#: (last write wins drops the finding), unknown for the second.
CONFIGURE = """\
def configure(app, debug=False, keep=False):
    app.config["DEBUG"] = debug
    app.config["DEBUG"] = debug if keep else False
"""


@closed(
    "Analyser.report() records a place in owner._reported before last-write-wins "
    "(_visit_block) drops the finding; a later call of the same function whose write stays "
    "on is then silenced there: the order of two calls decides a finding (exit 0). Fix: "
    "discard the place from _reported when _visit_block drops its finding (or key "
    "_reported by call site)."
)
def test_a_finding_dropped_for_one_call_is_reported_for_another(tmp_path: Path) -> None:
    """Two calls of configure(), one turned off after: the other is found in either order."""
    calls = (
        "configure(app, debug=True, keep=False)\n",
        "configure(app, debug=True, keep=sys.argv[1:])\n",
    )
    head = "import sys\nfrom flask import Flask\n" + CONFIGURE + "app = Flask(__name__)\n"
    write(tmp_path / "first", {"app.py": head + calls[1] + calls[0]})
    assert found(scan([tmp_path / "first"], jobs=1)) == [("app.py", "PGS103", 4)]
    write(tmp_path / "second", {"app.py": head + calls[0] + calls[1]})
    assert found(scan([tmp_path / "second"], jobs=1)) == [("app.py", "PGS103", 4)]


@needs_fork
@closed(
    "the same _reported hole across shares: one process finds nothing in this tree "
    "(exit 0), two or more find b_lib.py:2 (exit 1). Fix: as in "
    "test_a_finding_dropped_for_one_call_is_reported_for_another."
)
def test_a_finding_dropped_in_one_share_is_the_same_in_all(
    tmp_path: Path, forks: list[int]
) -> None:
    """The callers of configure() in two shares: one report whatever the jobs."""
    write(
        tmp_path,
        {
            "a_first.py": "from flask import Flask\nfrom b_lib import configure\n"
            "app = Flask(__name__)\nconfigure(app, debug=True, keep=False)\n",
            "b_lib.py": CONFIGURE,
            "c_second.py": "import sys\nfrom flask import Flask\nfrom b_lib import configure\n"
            "app = Flask(__name__)\nconfigure(app, debug=True, keep=sys.argv[1:])\n",
        },
    )
    assert differing(by_jobs(tmp_path, forks)) == {}


@needs_fork
@hole(
    "_analyse runs a share's modules that hold a sink word first and its callers without "
    "one after, per share: with one process c_caller (a sink word) runs before a_caller "
    "(none), in a share a_caller's share comes first, so b_lib.py:2 carries another "
    "chain. Fix: run every share's modules in the order one process would (the tree's "
    "order of ready modules, callers appended at the end of the whole tree), or merge "
    "duplicate places by that order instead of by share."
)
def test_a_finding_reached_from_two_shares_has_one_chain(
    tmp_path: Path, forks: list[int]
) -> None:
    """serve() called from two modules: the same chain whatever the number of processes."""
    write(
        tmp_path,
        {
            "a_caller.py": "from b_lib import serve\nfrom flask import Flask\n"
            "app = Flask(__name__)\nserve(app, True)\n",
            "b_lib.py": "def serve(app, debug=False):\n    app.run(debug=debug)\n",
            "c_caller.py": "from b_lib import serve\nfrom flask import Flask\n"
            "app = Flask(__name__)\nserve(app, debug=True)\n",
        },
    )
    assert differing(by_jobs(tmp_path, forks)) == {}


#: 64 ** 3 steps of a loop over a known tuple: more than a file's budget.
TOO_COSTLY = (
    "import os, sys\nT = ({items},)\ndef where():\n    for a in T:\n        for b in T:\n"
    "            for c in T:\n                pass\n    return 'libs'\n"
    "sys.path.insert(0, where())\nos.environ['X'] = '1'\n"
)


@needs_fork
@closed(
    "a module whose collection raises (too costly) is collected again by the environment "
    "pass and listed twice by one process, once by a shared scan (_merged drops the "
    "repeat). Fix: Loader.skip() keeps one entry per (file, reason), and Project.lookup() "
    "remembers a module whose collection failed."
)
def test_a_file_not_analysed_is_listed_once_whatever_the_jobs(
    tmp_path: Path, forks: list[int]
) -> None:
    """A file too costly to collect, that also writes os.environ: listed once."""
    write(
        tmp_path,
        {
            "a.py": TOO_COSTLY.format(items=", ".join(map(str, range(64)))),
            "b.py": "from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n",
        },
    )
    reports = by_jobs(tmp_path, forks)
    assert len(reports[1][1]) == 1  # type: ignore[arg-type]
    assert differing(reports) == {}


# --- 2. What one process alone gets wrong -------------------------------------------------


@closed(
    "_Loader.add() keeps the first file of a module name and drops the second without a "
    "word: app.py and the package app/__init__.py (which 'import app' loads) are both "
    "'app', and the package is neither analysed nor reported (exit 0). Fix: give each "
    "file its own entry (the package wins imports, as in Python) and analyse both, or "
    "report the second as not analysed."
)
def test_a_package_beside_a_module_of_the_same_name_is_scanned(tmp_path: Path) -> None:
    """app.py beside app/__init__.py: the package's app.run(debug=True) is found."""
    write(
        tmp_path,
        {
            "app.py": "from app import create_app\n",
            "app/__init__.py": "from flask import Flask\napp = Flask(__name__)\n"
            "app.run(debug=True)\n",
        },
    )
    report = scan([tmp_path], jobs=1)
    assert report.files == 2
    assert found(report) == [("__init__.py", "PGS101", 3)] or report.skipped


#: The 200 KB constant doubled by each of 12 names: 800 MB at the last.
DOUBLING = "X0 = '{text}'\n{doubled}app.run(debug=X12 == 'y')\n"


@closed(
    "_binop_value joins str + str (and list + list) of any length, and evaluates names "
    "again at each use: 12 names that double a 200 KB constant make an 800 MB string; "
    "capped at 600 MB of memory the scan says 'MemoryError; please report', uncapped a "
    "CI runner swaps or is OOM-killed. Fix: bound + of str and list by _MAX_TEXT (as "
    "_str_call bounds its results), UNKNOWN beyond."
)
def test_doubling_a_constant_does_not_exhaust_memory(tmp_path: Path) -> None:
    """A 200 KB file that doubles a constant 12 times: analysed within 600 MB."""
    doubled = "".join(f"X{i} = X{i - 1} + X{i - 1}\n" for i in range(1, 13))
    head = "from flask import Flask\napp = Flask(__name__)\n"
    write(tmp_path, {"app.py": head + DOUBLING.format(text="x" * 200_000, doubled=doubled)})
    code = (
        "import json, resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (600 * 2**20, 600 * 2**20))\n"
        "from flask_prodguard.tools.scan import scan\n"
        "print(json.dumps([s.reason for s in scan([sys.argv[1]], jobs=1).skipped]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == []


@closed(
    "_str_call bounds the text that replace and join make, not what split, splitlines, "
    "strip... make of a long text: a 2 MB constant split into a million words each time "
    "a name is read (a tuple of 10 tuples of 10 reads: 1,000 splits) takes 30 s, 40 x 40 "
    "x 40 takes half an hour, inside the step budget. Fix: UNKNOWN for a text (or a "
    "result) over _MAX_TEXT, before calling the method."
)
def test_str_methods_over_a_huge_constant_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No str method the scan works out makes more than _MAX_TEXT characters."""
    sizes: list[int] = []
    real = scan_analysis._str_call

    def measured(text: str, method: str, arguments: list[object]) -> object:
        result = real(text, method, arguments)
        if isinstance(result, str):
            sizes.append(len(result))
        elif isinstance(result, list | tuple):
            sizes.append(sum(len(item) + 1 for item in result if isinstance(item, str)))
        return result

    monkeypatch.setattr(scan_analysis, "_str_call", measured)
    words = "a " * 300_000
    write(
        tmp_path,
        {
            "app.py": "from flask import Flask\napp = Flask(__name__)\n"
            f"WORDS = '{words}debug'\nFLAGS = WORDS.split()\n"
            "app.run(debug='debug' in FLAGS)\n"
        },
    )
    scan([tmp_path], jobs=1)
    # None at all is a fix too: the text was refused before the method ran.
    assert max(sizes, default=0) <= scan_analysis._MAX_TEXT


@hole(
    "_other_files() keeps the bytes of every other file of the tree (up to 5,000 files "
    "of 1 MB: 5 GB, and once per share process) to count a key in them: 60 data files "
    "of 1 MB hold 60 MB while the scan runs. Fix: count the key while reading (or keep "
    "an index of the words of each file), never the files themselves."
)
def test_other_files_are_not_held_in_memory(tmp_path: Path) -> None:
    """A config.get(KEY, True) beside 60 data files of 1 MB: under 20 MB at the peak."""
    write(tmp_path, {"app.py": PORTAL})
    data = tmp_path / "data"
    data.mkdir()
    for number in range(60):
        with open(data / f"{number}.csv", "wb") as stream:
            stream.truncate(1_000_000)  # sparse: nothing written to the disk
    tracemalloc.start()
    try:
        report = scan([tmp_path], jobs=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found(report) == [("app.py", "PGS101", 12)]  # the key was looked for
    assert peak < 20 * 2**20


@closed(
    "_gate reads 'os.environ.get(NAME) != \"development\"' (no default) as off, but "
    "where NAME is unset None != 'development' is True: debug is on in production, and "
    "only the same comparison through a variable is found. Fix: for != and not in over "
    "development values, return True unless the default is one of them (the value of "
    "the comparison where nothing is set)."
)
def test_not_equal_development_decided_inline_is_found(tmp_path: Path) -> None:
    """DEBUG = environ.get("APP_ENV") != "development", inline as through a variable."""
    head = "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
    inline = 'app.config["DEBUG"] = os.environ.get("APP_ENV") != "development"\n'
    through = 'ON = os.environ.get("APP_ENV") != "development"\napp.config["DEBUG"] = ON\n'
    write(tmp_path / "through", {"app.py": head + through})
    assert found(scan([tmp_path / "through"], jobs=1)) == [("app.py", "PGS103", 5)]
    write(tmp_path / "inline", {"app.py": head + inline})
    assert found(scan([tmp_path / "inline"], jobs=1)) == [("app.py", "PGS103", 4)]


@closed(
    "_str_call catches TypeError and ValueError, not OverflowError: 'debug,x'.split(',', "
    "2**64) makes the file 'the scan failed on it (OverflowError...); please report' "
    "(exit 2, its findings dropped). Fix: catch ArithmeticError (or Exception) there too "
    "and return UNKNOWN."
)
def test_a_str_method_given_a_huge_number_is_unknown(tmp_path: Path) -> None:
    """'debug,x'.split(',', 2**64) is unknown; the file is still analysed."""
    write(
        tmp_path,
        {
            "app.py": "from flask import Flask\napp = Flask(__name__)\n"
            "FLAGS = 'debug,x'.split(',', 18446744073709551616)\n"
            "app.run(debug='debug' in FLAGS)\n"
        },
    )
    # Python itself raises there: whether debug is on is unknown, not a scan bug.
    assert scan([tmp_path], jobs=1).skipped == []


# --- 3. Decorators that return a wrapper --------------------------------------------------

#: A project decorator that turns debug on in what the function it wraps makes,
#: unless ``{gate}`` returns the function itself first.
GATED_DECORATOR = """\
import functools
import os


def dev_mode(build):
    if {gate}:
        return build

    @functools.wraps(build)
    def inner(*args, **kwargs):
        made = build(*args, **kwargs)
        made.debug = True
        return made

    return inner
"""

SHOP = """\
from flask import Flask
from tools import dev_mode


@dev_mode
def create_app():
    return Flask(__name__)
"""


@pytest.mark.parametrize(
    "gate",
    [
        pytest.param(
            'os.environ.get("SHOP_DEV") != "1"',
            marks=closed_case(
                "returned_wrapper() takes the last 'return <name>' of the decorator's "
                "body and ignores an earlier 'return build' under a gate: a decorator "
                "that wraps only where SHOP_DEV=1 (unset in production) is reported "
                "(tools.py:12), a false alarm on the usual development-only decorator. "
                "Fix: visit the decorator's body as a call (evaluate()) and follow the "
                "wrapper only where the decorator can return it."
            ),
            id="environment-gate",
        ),
        pytest.param(
            "True",
            marks=closed_case(
                "as environment-gate: 'if True: return build' (a constant PRODUCTION "
                "flag) still has the wrapper followed. Fix: as there."
            ),
            id="constant-gate",
        ),
    ],
)
def test_a_decorator_that_returns_the_function_unwrapped_is_clean(
    tmp_path: Path, gate: str
) -> None:
    """A decorator that returns the factory itself where it is gated off: no finding."""
    write(tmp_path, {"tools.py": GATED_DECORATOR.format(gate=gate), "shop/__init__.py": SHOP})
    report = scan([tmp_path], jobs=1)
    assert report.skipped == []
    assert found(report) == []


@closed(
    "a decorator factory that returns the function unchanged when its argument is off "
    "(@dev_only(False)) is reported: returned_wrapper() ignores the 'if not enabled: "
    "return fn' before 'return inner'. Fix: as in "
    "test_a_decorator_that_returns_the_function_unwrapped_is_clean, with the factory's "
    "arguments bound."
)
def test_a_decorator_factory_turned_off_by_its_argument_is_clean(tmp_path: Path) -> None:
    """@dev_only(False) over a factory: no finding (the factory is returned as it is)."""
    tools = """\
        import functools


        def dev_only(enabled):
            def deco(fn):
                if not enabled:
                    return fn

                @functools.wraps(fn)
                def inner(*args, **kwargs):
                    made = fn(*args, **kwargs)
                    made.debug = True
                    return made

                return inner

            return deco
        """
    shop = SHOP.replace("dev_mode\n\n\n@dev_mode", "dev_only\n\n\n@dev_only(False)")
    write(tmp_path, {"tools.py": tools, "shop/__init__.py": shop})
    assert found(scan([tmp_path], jobs=1)) == []


@closed(
    "returned_wrapper() matches the returned name against the nested definitions only: "
    "'inner = build; return inner' returns the function it was given, yet the nested "
    "inner (debug on) is followed and reported. Fix: take the name's last binding in the "
    "body, a nested def only where that is the binding."
)
def test_a_decorator_that_rebinds_its_wrapper_name_is_clean(tmp_path: Path) -> None:
    """def inner(...) ... then inner = build; return inner: the factory is unwrapped."""
    tools = """\
        def dev_mode(build):
            def inner(*args, **kwargs):
                made = build(*args, **kwargs)
                made.debug = True
                return made

            inner = build
            return inner
        """
    write(tmp_path, {"tools.py": tools, "shop/__init__.py": SHOP})
    assert found(scan([tmp_path], jobs=1)) == []


#: A decorator whose wrapper sets debug on what the factory makes.
LOUD = """\
import functools


def dev_mode(build):
    @functools.wraps(build)
    def inner(*args, debug=False, **kwargs):
        made = build(*args, **kwargs)
        made.debug = debug or kwargs.get("verbose", False)
        return made

    return inner
"""


@hole(
    "a call with arguments of a decorated factory is followed only where the factory "
    "itself is in Project.parametric; create_app (no sink word of its own) is not, so "
    "create_app(debug=True) never reaches the wrapper's 'made.debug = debug' (the code "
    "that did, _decorated_by_sinks, went in fc1f651). Fix: put a function decorated by "
    "a decorator of parametric_sinks() in Project.parametric too."
)
def test_a_decorated_factory_called_with_debug_is_found(tmp_path: Path) -> None:
    """create_app(debug=True) through the decorator's debug parameter: found."""
    write(
        tmp_path,
        {
            "tools.py": LOUD,
            "shop/__init__.py": SHOP,
            "wsgi.py": "from shop import create_app\napp = create_app(debug=True)\n",
        },
    )
    assert ("tools.py", "PGS102", 8) in found(scan([tmp_path], jobs=1))


@hole(
    "a decorator applied by a call ('create_app = dev_mode(create_app)', the form before "
    "'@' and still used to decorate an imported function) is not followed: the wrapper's "
    "debug = True on every app is missed. Fix: treat 'name = decorator(name)' of a "
    "project decorator as the decorator on that function (wrapper_of)."
)
def test_a_decorator_applied_by_a_call_is_followed(tmp_path: Path) -> None:
    """create_app = dev_mode(create_app): the wrapper's debug = True is found."""
    tools = LOUD.replace("debug or kwargs.get", "True or kwargs.get")
    shop = (
        "from flask import Flask\nfrom tools import dev_mode\n\n\ndef create_app():\n"
        "    return Flask(__name__)\n\n\ncreate_app = dev_mode(create_app)\n"
    )
    write(
        tmp_path,
        {
            "tools.py": tools,
            "shop/__init__.py": shop,
            "wsgi.py": "from shop import create_app\napp = create_app()\n",
        },
    )
    assert "PGS102" in [rule for _, rule, _ in found(scan([tmp_path], jobs=1))]


# --- 4. config.get(KEY, True) where no file names KEY --------------------------------------

#: A Flask subclass that runs with debug on unless PORTAL_DEV says otherwise; its
#: config loads FLASK_* variables (FLASK_PORTAL_DEV=0 turns it off).
PORTAL = """\
from flask import Flask


class Portal(Flask):
    def run(self, host=None, port=None, debug=None, **options):
        if debug is None:
            debug = self.config.get("PORTAL_DEV", True)
        super().run(host=host, port=port, debug=debug, **options)


app = Portal(__name__)
app.run()
"""
PORTAL_FROM_ENV = PORTAL.replace(
    "app = Portal(__name__)\n", "app = Portal(__name__)\napp.config.from_prefixed_env()\n"
)


@closed(
    "_Loader.mentions() counts the key in the scanned files only: a pre-commit hook "
    "passes the changed app.py alone, and config.py beside it (which sets PORTAL_DEV = "
    "False, loaded by from_object) is not counted, so the default True is taken: a false "
    "alarm that the scan of the directory does not give. Fix: count the key in the "
    "Python files of the root too (the files _other_files skips), or take no default "
    "when the scan was given files rather than their directory."
)
def test_scanning_one_file_takes_no_default_its_directory_sets(tmp_path: Path) -> None:
    """app.py scanned alone (pre-commit) as in its directory: config.py sets the key."""
    app = PORTAL.replace(
        "app = Portal(__name__)\n", "app = Portal(__name__)\napp.config.from_object('config')\n"
    )
    write(tmp_path, {"app.py": app, "config.py": "PORTAL_DEV = False\n"})
    assert found(scan([tmp_path], jobs=1)) == []
    assert found(scan([tmp_path / "app.py"], jobs=1)) == []


@pytest.mark.parametrize(
    ("app", "files"),
    [
        pytest.param(
            PORTAL_FROM_ENV,
            {".ebextensions/options.config": "option_settings:\n  FLASK_PORTAL_DEV: 0\n"},
            marks=closed_case(
                "_other_files() never enters a hidden directory: the deployment settings "
                "of Elastic Beanstalk (.ebextensions/), GitHub Actions (.github/), "
                ".platform/ set FLASK_PORTAL_DEV=0 and the default True is taken: a false "
                "alarm. Fix: read hidden directories too (.git aside) for mentions."
            ),
            id="hidden-deploy-directory",
        ),
        pytest.param(
            PORTAL_FROM_ENV,
            {"infra/stack.ts": "environment: { FLASK_PORTAL_DEV: '0' },\n"},
            marks=closed_case(
                "_NOT_SETTINGS skips .ts and .js, where infrastructure code sets a "
                "container's environment (AWS CDK stacks, pm2's ecosystem.config.js): a "
                "false alarm. Fix: skip only documents, images and fonts; read code."
            ),
            id="infrastructure-code",
        ),
        pytest.param(
            PORTAL.replace('"PORTAL_DEV"', '"PORTAL_" + "DEV"'),
            {"settings.cfg": "PORTAL_DEV = False\n"},
            marks=hole(
                "mentions(key) == 1 is read as 'only the read names it', but a key built "
                "from parts ('PORTAL_' + 'DEV') is not named by its read: the one mention "
                "is settings.cfg that sets it off, and the default True is taken. Fix: "
                "count the mentions outside the read's own literal and require none."
            ),
            id="key-built-from-parts",
        ),
        pytest.param(
            PORTAL.replace(
                "app.run()\n",
                "FLAGS = {'DEV': False}\n"
                "app.config.from_mapping({f'PORTAL_{k}': v for k, v in FLAGS.items()})\n"
                "app.run()\n",
            ),
            {},
            marks=hole(
                "a key set by from_mapping() of a comprehension that builds its name "
                "(f'PORTAL_{k}') is named nowhere as a whole: the default is taken though "
                "the same module sets it False. Fix: as key-built-from-parts, and take no "
                "default in a module that loads settings the analysis cannot read whole."
            ),
            id="key-set-by-a-comprehension",
        ),
    ],
)
def test_a_key_set_where_the_text_search_does_not_look_takes_no_default(
    tmp_path: Path, app: str, files: dict[str, str]
) -> None:
    """PORTAL_DEV turned off by the deployment or the project: no finding."""
    write(tmp_path, {"app.py": app, **files})
    report = scan([tmp_path], jobs=1)
    assert report.skipped == []
    assert found(report) == []


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="Unix sockets are POSIX")
@pytest.mark.parametrize(
    "odd",
    [
        pytest.param(
            "dangling-link",
            marks=closed_case(
                "_other_files() gives up (None: every key unknown) on a file it 'cannot "
                "open': a dangling symbolic link (a 'current' release link, an editor's "
                "lock file) switches the default rule off for the whole tree: a miss. "
                "Fix: skip what is not a regular file, as FIFOs are, and give up only on "
                "a regular file that cannot be read."
            ),
            id="dangling-link",
        ),
        pytest.param(
            "socket",
            marks=closed_case(
                "as dangling-link: a Unix socket left in the tree (a dev server's, "
                "ENXIO on open) switches the rule off. Fix: as there."
            ),
            id="socket",
        ),
    ],
)
def test_an_odd_file_does_not_switch_the_default_rule_off(tmp_path: Path, odd: str) -> None:
    """PORTAL_DEV's default is still taken beside a dangling link or a socket."""
    write(tmp_path, {"app.py": PORTAL})
    if odd == "dangling-link":
        (tmp_path / "current.cfg").symlink_to(tmp_path / "releases" / "gone.cfg")
        assert found(scan([tmp_path], jobs=1)) == [("app.py", "PGS101", 12)]
    else:
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(str(tmp_path / "dev.sock"))
            assert found(scan([tmp_path], jobs=1)) == [("app.py", "PGS101", 12)]


# --- 5. Attacks that failed ---------------------------------------------------------------


@needs_fork
def test_text_buffered_before_a_shared_scan_is_written_once(
    tmp_path: Path, forks: list[int], capfd: pytest.CaptureFixture[str]
) -> None:
    """Text buffered in stdout, stderr and a file when the tree is shared is written once."""
    write(
        tmp_path,
        {f"m{i}.py": "from flask import Flask\napp = Flask(__name__)\n" for i in range(4)},
    )
    sys.stdout.write("buffered-out")
    sys.stderr.write("buffered-err")
    with open(tmp_path / "log.txt", "w", encoding="utf-8") as log:
        log.write("buffered-file")
        scan([tmp_path], jobs=4)
    assert len(forks) == 3
    captured = capfd.readouterr()
    assert captured.out.count("buffered-out") == 1
    assert captured.err.count("buffered-err") == 1
    assert (tmp_path / "log.txt").read_text(encoding="utf-8") == "buffered-file"


#: Modules each with a finding or not, for the attacks on the processes.
SIX = {
    f"m{i}.py": f"from flask import Flask\napp = Flask(__name__)\napp.run(debug={i % 2 == 0})\n"
    for i in range(6)
}


@needs_fork
def test_a_fork_that_fails_half_way_costs_no_finding(
    tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second fork fails (EAGAIN): same report as one process, no child left."""
    write(tmp_path, SIX)
    alone = seen(scan([tmp_path], jobs=1))
    fork = os.fork
    calls: list[int] = []

    def failing_second() -> int:
        calls.append(1)
        if len(calls) == 2:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return fork()

    monkeypatch.setattr(os, "fork", failing_second)
    assert seen(scan([tmp_path], jobs=4)) == alone
    assert len(calls) == 2
    assert no_children_left()


@needs_fork
def test_an_interrupt_during_a_shared_scan_leaves_no_child(
    tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after the shares meet: KeyboardInterrupt goes up, no child left, gc on again."""
    write(tmp_path, SIX)
    real = scan_module._analyse
    parent = os.getpid()

    def interrupted(loader, share, exchange):  # type: ignore[no-untyped-def]
        if os.getpid() != parent:
            return real(loader, share, exchange)

        def exchange_then_interrupt(sinks):  # type: ignore[no-untyped-def]
            exchange(sinks)
            raise KeyboardInterrupt

        return real(loader, share, exchange_then_interrupt)

    monkeypatch.setattr(scan_module, "_analyse", interrupted)
    with pytest.raises(KeyboardInterrupt):
        scan([tmp_path], jobs=3)
    assert len(forks) == 2
    assert no_children_left()
    assert gc.isenabled()


@needs_fork
def test_a_shared_scan_with_sigchld_ignored_gives_the_same_report(
    tmp_path: Path, forks: list[int]
) -> None:
    """SIGCHLD ignored (waitpid fails): the tree is scanned alone, same report, no hang."""
    write(tmp_path, SIX)
    alone = seen(scan([tmp_path], jobs=1))
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        shared = seen(scan([tmp_path], jobs=3))
    finally:
        signal.signal(signal.SIGCHLD, previous)
    assert len(forks) == 2
    assert shared == alone


@needs_fork
@pytest.mark.parametrize(
    "writer",
    [
        "import os\nos.environ.setdefault('APP_DEBUG', '1')\n",
        "from dotenv import load_dotenv\nload_dotenv()\n",
    ],
    ids=["setdefault", "load_dotenv"],
)
def test_the_environment_written_in_one_share_is_read_in_another(
    tmp_path: Path, forks: list[int], writer: str
) -> None:
    """APP_DEBUG written by the first module (or its .env) is read in another share."""
    write(
        tmp_path,
        {
            ".env": "APP_DEBUG=1\n",
            "a_env.py": writer,
            "m_middle.py": PAD,
            "z_app.py": "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
            "app.run(debug=os.environ.get('APP_DEBUG') == '1')\n" + PAD,
        },
    )
    reports = by_jobs(tmp_path, forks)
    assert differing(reports) == {}
    assert [Path(f.path).name for f in reports[1][0]] == ["z_app.py"]  # type: ignore[attr-defined]
