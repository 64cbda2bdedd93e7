"""``flask prodguard alert-rules --target prometheus``: the generated chain, run for real.

The three generated files go to the programs that read them in production:
``promtool check rules`` and ``promtool test rules``; then a whole pipeline on
127.0.0.1: a guarded app under gunicorn (``flask prodguard serve``) writes its
events to a file, mtail counts them with the generated program (at its default
poll interval), and Prometheus and Alertmanager run with the example
configurations that ``docs/alerting.rst`` ships (``docs/examples/prometheus.yml``
and ``alertmanager.yml``): only their 127.0.0.1 addresses are replaced, every
interval is the shipped one. Alertmanager's webhook receivers are served by the
test process, which notes when each notification arrives; the tests poll
Alertmanager's API too.

Every program listens on an explicit 127.0.0.1 address with a free port (the
Alertmanager cluster listener is switched off), keeps its data under
``tmp_path``, runs in its own session and has its whole process group stopped
at the end; its output is kept under ``tmp_path`` and printed at teardown, so a
failing test shows it. Rules for the pipeline are generated with
``--probe-threshold 3 --window 1`` so a few probes are enough.

Critical events must page within :data:`PAGE_WITHIN` seconds of their line in
the log. The latency tests write the event just after a scrape of mtail, the
worst moment (the next scrape is a whole interval away), measure the time from
the event's own ``timestamp`` to the alert in Alertmanager's API and to the
notification at the receiver, print it and record it as a test property
(``record_property``, in the JUnit XML). ``docs/alerting.rst`` reports the
figures.

A rate rule is ``increase(...) > threshold``, and ``increase()`` cannot see the
first sample of a new series: probes that arrive between two scrapes as the
first ones since mtail started make the series' first sample, and no alert
follows. The main end-to-end test therefore lets one probe be scraped before
it sends the others; ``test_rate_alert_fires_on_a_first_burst`` (promtool) and
``test_first_probe_burst_raises_an_alert`` (the whole chain) assert that such a
first burst alerts too.
"""

from __future__ import annotations

import dataclasses
import http.client
import http.server
import json
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask_prodguard.tools.alert_rules import RATE_EVENTS
from flask_prodguard.tools.alert_rules import Alert
from flask_prodguard.tools.alert_rules import alerts

from servers import Process
from servers import free_ports
from servers import require_program
from servers import server_environ
from servers import start_process
from servers import wait_for

pytestmark = pytest.mark.server

PYTHON = sys.executable
FLASK = str(Path(sys.executable).with_name("flask"))

#: The example configurations of docs/alerting.rst.
EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
#: The addresses the examples use, replaced by free ports here.
MTAIL_ADDRESS = "127.0.0.1:3903"
ALERTMANAGER_ADDRESS = "127.0.0.1:9093"
WEBHOOK_ADDRESS = "127.0.0.1:5001"

READY_TIMEOUT = 30.0
#: How often the programs' HTTP APIs are polled while waiting.
POLL = 0.2
#: How often Alertmanager's API is polled while a latency is measured.
MEASURE_POLL = 0.05
#: Bound for an alert to reach Alertmanager once its events are in the log.
ALERT_TIMEOUT = 60.0
#: Seconds from a critical event's line in the log to its page (the issue's promise).
PAGE_WITHIN = 15.0
#: How long a clean app serves normal requests while the rules are evaluated.
CLEAN_SECONDS = 12.0

PROBE_THRESHOLD = 3
FAST_RULES = ("--probe-threshold", str(PROBE_THRESHOLD), "--window", "1")
SERIES = "prodguard_security_events_total"
#: Requests aimed at the Werkzeug debugger, as a scanner sends them.
PROBES = (
    "/?__debugger__=yes&cmd=resource&f=debugger.js",
    "/console",
    "/?__debugger__=yes&cmd=printpin&s=x",
)

APP = '''\
"""A guarded app with safe settings (tests/test_alerting_e2e.py)."""

import os

from flask import Flask

from flask_prodguard import ProdGuard

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["APP_SECRET_KEY"],
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024 * 1024,
)


@app.get("/")
def index():
    return "hello"


ProdGuard(app)
'''

UNSAFE_APP = '''\
"""The same app deployed with debug mode on (tests/test_alerting_e2e.py)."""

import os

from flask import Flask

from flask_prodguard import ProdGuard

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["APP_SECRET_KEY"],
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024 * 1024,
)
app.config["DEBUG"] = True

ProdGuard(app)
'''


def example_config(name: str, addresses: dict[str, str]) -> str:
    """``docs/examples/<name>`` with only its 127.0.0.1 addresses replaced."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    for shipped, used in addresses.items():
        assert shipped in text, f"docs/examples/{name} no longer has {shipped}"
        text = text.replace(shipped, used)
    return text


def shipped_timings() -> str:
    """The intervals of the example configurations, for messages."""
    pattern = re.compile(r"^\s*(\w+_(?:interval|wait)): (\S+)", re.MULTILINE)
    return "; ".join(
        f"{name}: "
        + ", ".join(
            f"{key} {value}"
            for key, value in pattern.findall((EXAMPLES / name).read_text(encoding="utf-8"))
        )
        for name in ("prometheus.yml", "alertmanager.yml")
    )


# -- processes -----------------------------------------------------------------------


def run_flask(cwd: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """``flask *args`` to completion, in ``cwd``."""
    return subprocess.run(
        [FLASK, *args],
        cwd=cwd,
        env=server_environ(**variables),
        capture_output=True,
        text=True,
        timeout=60,
    )


def generate_rules(directory: Path, *args: str) -> Path:
    """Run ``flask prodguard alert-rules --target prometheus --output directory *args``."""
    result = run_flask(
        directory.parent,
        "prodguard",
        "alert-rules",
        "--target",
        "prometheus",
        "--output",
        str(directory),
        *args,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    names = sorted(path.name for path in directory.iterdir())
    assert names == ["prodguard.mtail", "prodguard.rules.test.yml", "prodguard.rules.yml"]
    return directory


# -- HTTP ----------------------------------------------------------------------------


def get(port: int, target: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """``GET http://127.0.0.1:port/target`` (never through a proxy): status and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def get_json(port: int, target: str) -> Any:
    """A ``GET`` that must answer 200 with JSON."""
    status, body = get(port, target)
    assert status == 200, (target, status, body[:500])
    return json.loads(body)


@dataclasses.dataclass(frozen=True)
class Notification:
    """One POST from Alertmanager to a webhook receiver."""

    #: ``time.time()`` when the request arrived.
    arrived: float
    #: The receiver's URL path, ``/security-pager`` say.
    path: str
    payload: dict[str, Any]

    def names(self) -> set[str]:
        """The names of the firing alerts the notification carries."""
        return {
            str(alert.get("labels", {}).get("alertname"))
            for alert in self.payload.get("alerts", ())
            if alert.get("status") == "firing"
        }


class WebhookHandler(http.server.BaseHTTPRequestHandler):
    """Notes each notification with its arrival time and answers 200."""

    server: Webhook

    def do_POST(self) -> None:
        arrived = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {"unreadable": body.decode(errors="replace")}
        self.server.note(Notification(arrived, self.path, payload))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the notifications are shown by the test when it fails."""


class Webhook(http.server.ThreadingHTTPServer):
    """The example's webhook receivers, served by the test process on 127.0.0.1."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), WebhookHandler)
        self.lock = threading.Lock()
        self.notifications: list[Notification] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def note(self, notification: Notification) -> None:
        with self.lock:
            self.notifications.append(notification)

    def received(self) -> list[Notification]:
        with self.lock:
            return list(self.notifications)

    def first(self, receiver: str, name: str) -> Notification | None:
        """The first notification to ``/receiver`` that says ``name`` fires."""
        for notification in self.received():
            if notification.path == f"/{receiver}" and name in notification.names():
                return notification
        return None


@dataclasses.dataclass(frozen=True)
class Latency:
    """Seconds from an event's line in the log to its alert, measured for real."""

    alert: str
    receiver: str
    #: To the alert held by Alertmanager (``GET /api/v2/alerts``).
    to_alertmanager: float
    #: To the notification at the receiver: the page.
    to_receiver: float

    def __str__(self) -> str:
        return (
            f"{self.alert}: event line -> Alertmanager {self.to_alertmanager:.1f} s,"
            f" -> {self.receiver} {self.to_receiver:.1f} s"
        )


def report(
    latency: Latency,
    record_property: Callable[[str, object], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Show ``latency`` on the terminal even when output is captured, and record it."""
    record_property(
        f"{latency.alert}_seconds_to_alertmanager", round(latency.to_alertmanager, 2)
    )
    record_property(f"{latency.alert}_seconds_to_receiver", round(latency.to_receiver, 2))
    # The figure is the point of the test: keep it visible in a passing run too.
    with capsys.disabled():
        print(f"\n{latency} (budget {PAGE_WITHIN:g} s; {shipped_timings()})")


# -- the pipeline --------------------------------------------------------------------


@dataclasses.dataclass
class Stack:
    """Alertmanager, mtail, Prometheus and the app, started for one test."""

    tmp_path: Path
    rules: Path
    webhook: Webhook
    started: list[Process] = dataclasses.field(default_factory=list)
    ports: dict[str, int] = dataclasses.field(default_factory=dict)
    secret_key: str = dataclasses.field(default_factory=lambda: secrets.token_hex(32))

    @property
    def app_dir(self) -> Path:
        return self.tmp_path / "app"

    @property
    def events_log(self) -> Path:
        return self.tmp_path / "events.log"

    def run(self, name: str, argv: list[str], cwd: Path, **variables: str) -> Process:
        log = self.tmp_path / f"{name}.log"
        process = start_process(argv, cwd, log, server_environ(**variables))
        self.started.append(process)
        return process

    def app_environ(self) -> dict[str, str]:
        return {
            "PRODGUARD_ENV": "production",
            "PRODGUARD_LOG_DESTINATION": str(self.events_log),
            "APP_SECRET_KEY": self.secret_key,
        }

    def diagnostics(self) -> str:
        """Everything that helps to see where the chain broke."""
        parts = [f"--- events.log:\n{self.read_events_text()}"]
        if "mtail" in self.ports:
            try:
                metrics = get(self.ports["mtail"], "/metrics")[1].decode(errors="replace")
            except OSError as error:
                metrics = repr(error)
            lines = [line for line in metrics.splitlines() if line.startswith(SERIES)]
            parts.append("--- mtail metrics:\n" + "\n".join(lines))
        if "prometheus" in self.ports:
            states: list[object]
            try:
                states = [
                    (a["labels"].get("alertname"), a["state"], a.get("activeAt"))
                    for a in self.prometheus_alerts()
                ]
            except (OSError, http.client.HTTPException, AssertionError) as error:
                states = [repr(error)]
            parts.append(f"--- alerts in Prometheus: {states}")
        notifications = [
            (n.path, sorted(n.names()), round(n.arrived, 2)) for n in self.webhook.received()
        ]
        parts.append(f"--- webhook notifications: {notifications}")
        parts.append(f"--- shipped timings: {shipped_timings()}")
        for process in self.started:
            parts.append(f"--- {process.log.name} (exit {process.proc.poll()}): last lines")
            parts.append("\n".join(process.output().splitlines()[-15:]))
        return "\n".join(parts)

    def read_events_text(self) -> str:
        return self.events_log.read_text(errors="replace") if self.events_log.exists() else ""

    def event_lines(self) -> list[dict[str, Any]]:
        """The events in the log file, in order."""
        return [json.loads(line) for line in self.read_events_text().splitlines()]

    def events(self) -> list[str]:
        """The event names in the log file, in order."""
        return [event["event"] for event in self.event_lines()]

    def start(self) -> None:
        """Start everything and wait until the app's posture event is in Prometheus."""
        am_port, mtail_port, prom_port, app_port = free_ports(4)
        self.ports.update(alertmanager=am_port, mtail=mtail_port, prometheus=prom_port)
        self.events_log.touch()  # mtail polls only the files that exist when it starts

        am_dir = self.tmp_path / "alertmanager"
        am_dir.mkdir()
        (am_dir / "alertmanager.yml").write_text(
            example_config("alertmanager.yml", {WEBHOOK_ADDRESS: self.webhook.address})
        )
        self.run(
            "alertmanager",
            [
                require_program("prometheus-alertmanager"),
                f"--config.file={am_dir / 'alertmanager.yml'}",
                f"--storage.path={am_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
            am_dir,
        )
        self.run(
            "mtail",
            [
                require_program("mtail"),
                "--address",
                "127.0.0.1",
                "--port",
                str(mtail_port),
                "--progs",
                str(self.rules),
                "--logs",
                str(self.events_log),
                "--logtostderr",
            ],
            self.tmp_path,
        )
        prom_dir = self.tmp_path / "prometheus"
        prom_dir.mkdir()
        # The example lists the rules by a name relative to itself.
        shutil.copy(self.rules / "prodguard.rules.yml", prom_dir)
        (prom_dir / "prometheus.yml").write_text(
            example_config(
                "prometheus.yml",
                {
                    MTAIL_ADDRESS: f"127.0.0.1:{mtail_port}",
                    ALERTMANAGER_ADDRESS: f"127.0.0.1:{am_port}",
                },
            )
        )
        self.run(
            "prometheus",
            [
                require_program("prometheus"),
                f"--config.file={prom_dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={prom_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            prom_dir,
        )
        for name, target in (
            ("alertmanager", "/-/ready"),
            ("mtail", "/metrics"),
            ("prometheus", "/-/ready"),
        ):
            wait_for(
                lambda name=name, target=target: get(self.ports[name], target)[0] == 200,
                f"{name} ready",
                READY_TIMEOUT,
                self.diagnostics,
                interval=POLL,
            )
        self.serve_app(app_port)
        self.wait_for_series("prodguard.startup.posture", 1)

    def serve_app(self, port: int) -> None:
        """The safe app under gunicorn: ``flask --app app prodguard serve``."""
        self.app_dir.mkdir()
        (self.app_dir / "app.py").write_text(APP)
        self.ports["app"] = port
        self.run(
            "gunicorn",
            [
                FLASK,
                "--app",
                "app",
                "prodguard",
                "serve",
                "--server",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            self.app_dir,
            **self.app_environ(),
        )
        wait_for(
            lambda: get(port, "/") == (200, b"hello"),
            "app ready",
            READY_TIMEOUT,
            self.diagnostics,
            interval=POLL,
        )

    def start_unsafe_app(self, **variables: str) -> subprocess.CompletedProcess[str]:
        """Create the app with ``DEBUG = True`` in a new process (its start-up events)."""
        (self.app_dir / "unsafe_app.py").write_text(UNSAFE_APP)
        return subprocess.run(
            [PYTHON, "-c", "import unsafe_app"],
            cwd=self.app_dir,
            env=server_environ(**self.app_environ(), **variables),
            capture_output=True,
            text=True,
            timeout=60,
        )

    # -- queries --

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Prometheus instant query: the result vector."""
        target = "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        data = get_json(self.ports["prometheus"], target)
        assert data["status"] == "success", data
        return list(data["data"]["result"])

    def series_value(self, event: str) -> float | None:
        """The counter of ``event`` as Prometheus has it now (None: no series)."""
        result = self.query(f'sum({SERIES}{{event="{event}"}})')
        return float(result[0]["value"][1]) if result else None

    def wait_for_series(self, event: str, at_least: float) -> None:
        """Until Prometheus has scraped the counter of ``event`` at ``at_least`` or more."""
        wait_for(
            lambda: (self.series_value(event) or 0) >= at_least,
            f"{SERIES}{{event={event!r}}} >= {at_least} in Prometheus",
            READY_TIMEOUT,
            self.diagnostics,
            interval=POLL,
        )

    def prometheus_alerts(self) -> list[dict[str, Any]]:
        """Alerts Prometheus has pending or firing."""
        data = get_json(self.ports["prometheus"], "/api/v1/alerts")
        return list(data["data"]["alerts"])

    def alertmanager_alerts(self) -> list[dict[str, Any]]:
        """Every alert Alertmanager holds (``GET /api/v2/alerts``)."""
        return list(get_json(self.ports["alertmanager"], "/api/v2/alerts"))

    def received(self, name: str) -> list[dict[str, Any]]:
        """The alerts named ``name`` that Alertmanager holds."""
        return [a for a in self.alertmanager_alerts() if a["labels"].get("alertname") == name]

    def last_scrape(self) -> str:
        """When Prometheus last scraped mtail, as its API says."""
        (target,) = get_json(self.ports["prometheus"], "/api/v1/targets")["data"][
            "activeTargets"
        ]
        return str(target["lastScrape"])

    def scrape_seconds(self) -> float:
        """The interval at which Prometheus scrapes mtail (from the example)."""
        (target,) = get_json(self.ports["prometheus"], "/api/v1/targets")["data"][
            "activeTargets"
        ]
        interval = str(target["scrapeInterval"])
        assert interval.endswith("s") and interval[:-1].isdigit(), interval
        return float(interval[:-1])

    def wait_for_scrape(self) -> None:
        """Until Prometheus has scraped mtail once more: the next scrape is an interval away."""
        before = self.last_scrape()
        wait_for(
            lambda: self.last_scrape() != before,
            "a scrape of mtail",
            READY_TIMEOUT,
            self.diagnostics,
            interval=MEASURE_POLL,
        )

    def time_to_page(self, name: str, receiver: str, written: float) -> Latency:
        """Seconds from ``written`` (an event's timestamp) to alert ``name`` in
        Alertmanager and to its notification at ``receiver``; fail after
        :data:`PAGE_WITHIN`."""
        in_alertmanager: float | None = None
        page: Notification | None = None
        while page is None or in_alertmanager is None:
            if time.time() > written + PAGE_WITHIN:
                where = "not even in Alertmanager"
                if in_alertmanager is not None:
                    where = f"in Alertmanager after {in_alertmanager - written:.1f} s"
                pytest.fail(
                    f"{name} sent no page to {receiver} within {PAGE_WITHIN:g} s of its event"
                    f" line ({where}) with the example configurations\n{self.diagnostics()}"
                )
            if in_alertmanager is None and self.received(name):
                # Taken after the answer: the figure errs on the slow side.
                in_alertmanager = time.time()
            page = self.webhook.first(receiver, name)
            time.sleep(MEASURE_POLL)
        return Latency(name, receiver, in_alertmanager - written, page.arrived - written)

    def wait_for_alert(self, name: str, timeout: float = ALERT_TIMEOUT) -> dict[str, Any]:
        """Poll Alertmanager until it holds an alert ``name``; fail after ``timeout``."""
        found = wait_for(
            lambda: self.received(name),
            f"{name} in Alertmanager",
            timeout,
            self.diagnostics,
            interval=POLL,
        )
        return dict(found[0])


@pytest.fixture(scope="module")
def fast_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated Prometheus files with ``--probe-threshold 3 --window 1``."""
    return generate_rules(tmp_path_factory.mktemp("rules") / "alerting", *FAST_RULES)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """The webhook receivers of the example alertmanager.yml, on a free port."""
    server = Webhook()
    thread = threading.Thread(target=server.serve_forever, name="webhook", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def start_stack(
    tmp_path: Path, fast_rules: Path, webhook: Webhook
) -> Iterator[Callable[[], Stack]]:
    """Return ``start_stack()``, which starts the pipeline with the example
    configurations; everything is stopped at teardown."""
    stacks: list[Stack] = []

    def start() -> Stack:
        stack = Stack(tmp_path, fast_rules, webhook)
        stacks.append(stack)
        stack.start()
        return stack

    try:
        yield start
    finally:
        for stack in stacks:
            for process in reversed(stack.started):
                process.stop()
                print(f"--- {process.proc.args!r}, exit code {process.proc.poll()}")
                print(process.output()[-5000:])


# -- promtool ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [(), FAST_RULES], ids=["defaults", "probe-threshold-3-window-1"]
)
def test_promtool_accepts_the_generated_files(tmp_path: Path, args: tuple[str, ...]) -> None:
    """promtool check rules and promtool test rules pass on the generated files."""
    rules = generate_rules(tmp_path / "alerting", *args)
    check = subprocess.run(
        [require_program("promtool"), "check", "rules", "prodguard.rules.yml"],
        cwd=rules,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 9 rules found" in check.stdout + check.stderr
    tested = subprocess.run(
        [require_program("promtool"), "test", "rules", "prodguard.rules.test.yml"],
        cwd=rules,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = tested.stdout + tested.stderr
    failed = sorted(
        {
            line.split("alertname:", 1)[1].split(",")[0].strip()
            for line in output.splitlines()
            if line.strip().startswith("alertname:")
        }
    )
    details = "\n".join(line for line in output.splitlines() if line.strip())
    assert tested.returncode == 0, (
        f"`promtool test rules` fails on the test file generated with {' '.join(args)!r}:"
        f" {len(failed)} alert(s) do not fire where the file expects them: {failed} (its"
        " input series and eval times are the same whatever --window says)"
        f"\n{details[-3000:]}"
    )


def first_burst_test(alert: Alert, count: int) -> str:
    """A promtool test: the first ``count`` events arrive between two scrapes."""
    series = f'{SERIES}{{event="{alert.event}", level="warning"}}'
    return (
        "rule_files:\n"
        "  - prodguard.rules.yml\n"
        "evaluation_interval: 15s\n"
        "tests:\n"
        "  - interval: 15s\n"
        "    input_series:\n"
        # No series at first (nothing has happened since mtail started), then the burst.
        f"      - series: '{series}'\n"
        f"        values: '_x3 {count}x20'\n"
        "    alert_rule_test:\n"
        "      - eval_time: 2m\n"
        f"        alertname: {alert.name}\n"
        "        exp_alerts:\n"
        "          - exp_labels:\n"
        f"              severity: {alert.severity}\n"
        f"              event: {alert.event}\n"
        "            exp_annotations:\n"
        f"              summary: {json.dumps(alert.summary)}\n"
        f"              runbook_url: {json.dumps(alert.runbook)}\n"
    )


@pytest.mark.parametrize("event", sorted(RATE_EVENTS))
def test_rate_alert_fires_on_a_first_burst(tmp_path: Path, event: str) -> None:
    """A burst above the threshold fires the rate alert even when it creates the series."""
    rules = generate_rules(tmp_path / "alerting")
    (alert,) = [a for a in alerts() if a.event == event]
    count = alert.threshold * 5
    (rules / "burst.test.yml").write_text(first_burst_test(alert, count))
    tested = subprocess.run(
        [require_program("promtool"), "test", "rules", "burst.test.yml"],
        cwd=rules,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert tested.returncode == 0, (
        f"{count} {event} events in one scrape interval (threshold {alert.threshold} per"
        f" {alert.window_minutes}m), the first since mtail started, never fire {alert.name}:"
        " increase() ignores the first sample of a new series, and the rate rule has no"
        " `unless ... offset` branch like the immediate rules"
        f"\n{tested.stdout[-2000:]}{tested.stderr[-2000:]}"
    )


# -- end to end ----------------------------------------------------------------------


def prodguard_alerts(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerts among ``found`` whose name says they come from the generated rules."""
    return [a for a in found if str(a["labels"].get("alertname", "")).startswith("ProdGuard")]


def test_clean_run_raises_no_alert(start_stack: Callable[[], Stack]) -> None:
    """A safe app serving normal requests raises no alert; its posture event does not alert."""
    stack = start_stack()
    prom, am = stack.ports["prometheus"], stack.ports["alertmanager"]
    # The chain is live: the rules are loaded and Prometheus talks to Alertmanager.
    active = get_json(prom, "/api/v1/alertmanagers")["data"]["activeAlertmanagers"]
    assert [a["url"] for a in active] == [f"http://127.0.0.1:{am}/api/v2/alerts"]
    deadline = time.monotonic() + CLEAN_SECONDS
    served = 0
    while time.monotonic() < deadline:
        assert get(stack.ports["app"], "/") == (200, b"hello")
        served += 1
        time.sleep(0.1)
    groups = get_json(prom, "/api/v1/rules")["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == 9, rules
    for rule in rules:
        assert rule["health"] == "ok" and not rule["lastEvaluation"].startswith("0001"), rule
    assert {"prodguard.startup.posture"} == set(stack.events()), stack.events()
    assert stack.series_value("prodguard.startup.posture")
    assert not prodguard_alerts(stack.prometheus_alerts()), stack.diagnostics()
    assert not prodguard_alerts(stack.alertmanager_alerts()), stack.diagnostics()
    assert not stack.webhook.received(), stack.diagnostics()
    assert served > 50


def send_probes(stack: Stack, count: int) -> None:
    """``count`` debugger probes, each answered with the app's 404."""
    for number in range(count):
        status, body = get(stack.ports["app"], PROBES[number % len(PROBES)])
        assert status == 404, (status, body[:300])


def written_at(event: dict[str, Any]) -> float:
    """When the guard wrote ``event``: its own ``timestamp``, as ``time.time()`` counts."""
    return datetime.fromisoformat(str(event["timestamp"])).timestamp()


def test_refused_start_pages_within_15_seconds(
    start_stack: Callable[[], Stack],
    record_property: Callable[[str, object], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With the example configs, a refused start pages the critical receiver within 15 s."""
    stack = start_stack()
    stack.wait_for_scrape()  # the worst moment: the next scrape is a whole interval away
    result = stack.start_unsafe_app(PRODGUARD_STRICTNESS="strict")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "UnsafeDeploymentError" in result.stderr, result.stderr
    (refused,) = [e for e in stack.event_lines() if e["event"] == "prodguard.startup.refused"]

    latency = stack.time_to_page(
        "ProdGuardStartupRefused", "security-pager", written_at(refused)
    )
    report(latency, record_property, capsys)
    assert latency.to_receiver < PAGE_WITHIN
    (alert,) = stack.received("ProdGuardStartupRefused")
    assert alert["labels"]["severity"] == "critical"
    assert alert["labels"]["event"] == "prodguard.startup.refused"
    # The critical route catches it: a page, not a message in the channel.
    assert stack.webhook.first("security-channel", "ProdGuardStartupRefused") is None


def test_probes_and_debug_mode_raise_alerts(
    start_stack: Callable[[], Stack],
    record_property: Callable[[str, object], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Probes above the threshold reach the channel within 15 s; debug mode raises its alert."""
    stack = start_stack()
    # One probe first, scraped before the others: the rate rule cannot see a
    # burst that creates the series (test_first_probe_burst_raises_an_alert).
    send_probes(stack, 1)
    stack.wait_for_series("prodguard.debugger.probe", 1)
    assert not stack.received("ProdGuardDebuggerProbe")
    stack.wait_for_scrape()
    send_probes(stack, PROBE_THRESHOLD + 3)
    burst = [e for e in stack.event_lines() if e["event"] == "prodguard.debugger.probe"][1:]
    assert len(burst) == PROBE_THRESHOLD + 3, stack.events()

    # From the burst's first line: the alert needs them all, so this errs on the slow side.
    latency = stack.time_to_page(
        "ProdGuardDebuggerProbe", "security-channel", written_at(burst[0])
    )
    report(latency, record_property, capsys)
    assert latency.to_receiver < PAGE_WITHIN
    (alert,) = stack.received("ProdGuardDebuggerProbe")
    assert alert["labels"]["severity"] == "warning"
    assert alert["labels"]["event"] == "prodguard.debugger.probe"
    assert alert["annotations"]["runbook_url"].endswith("#prodguard-debugger-probe")
    assert not stack.received("ProdGuardDebugBlocked")

    result = stack.start_unsafe_app()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "prodguard.debug.blocked" in stack.events()
    alert = stack.wait_for_alert("ProdGuardDebugBlocked")
    assert alert["labels"]["severity"] == "warning"
    assert alert["labels"]["event"] == "prodguard.debug.blocked"


def test_first_probe_burst_raises_an_alert(start_stack: Callable[[], Stack]) -> None:
    """A burst of probes between two scrapes, the first since mtail started, raises an alert."""
    stack = start_stack()
    stack.wait_for_scrape()
    scraped = time.monotonic()
    count = PROBE_THRESHOLD * 3
    send_probes(stack, count)
    mtail_counted = f'{SERIES}{{event="prodguard.debugger.probe",level="warning",'
    wait_for(
        lambda: any(
            line.startswith(mtail_counted) and line.endswith(f" {count}")
            for line in get(stack.ports["mtail"], "/metrics")[1].decode().splitlines()
        ),
        "mtail counted the burst",
        5,
        stack.diagnostics,
        interval=POLL,
    )
    # The burst is in mtail before the next scrape: Prometheus's first sample has it all.
    assert time.monotonic() - scraped < stack.scrape_seconds() - 1, (
        "the burst took longer than a scrape interval"
    )
    stack.wait_for_series("prodguard.debugger.probe", count)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not stack.received("ProdGuardDebuggerProbe"):
        time.sleep(0.2)
    increase = stack.query(f'increase({SERIES}{{event="prodguard.debugger.probe"}}[1m])')
    assert stack.received("ProdGuardDebuggerProbe"), (
        f"{count} debugger probes (threshold {PROBE_THRESHOLD} per 1m) raised no"
        " ProdGuardDebuggerProbe: they arrived between two scrapes, so the series' first"
        f" sample was already {count}, and increase() over it is"
        f" {[r['value'][1] for r in increase]}\n{stack.diagnostics()}"
    )
