"""A CI-sized run of ``benchmarks/load_mixed.py``: mixed load on real gunicorn.

The benchmark sends 100 000 requests; here 10 000 with a 5-second
flood-control window, so a window closes during the run (the run takes 3 s
on a quiet 2-core machine, longer under load) and the last one is reported
when the workers exit. Not shorter: each window lets every (worker, client)
pair write its burst again, and on a busy machine a 2-second window let more
probe lines through than it suppressed. The
invariants are the benchmark's own (see its docstring); this test also states
the main ones explicitly, so a failure names what broke.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
BENCHMARK = BENCHMARKS / "load_mixed.py"


def load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("load_mixed", BENCHMARK)
    assert spec is not None and spec.loader is not None
    if str(BENCHMARKS) not in sys.path:
        sys.path.append(str(BENCHMARKS))  # for gunicorn_common, as when run as a script
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_mixed"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    if not sys.platform.startswith("linux"):
        pytest.skip("reads worker memory from /proc")
    bench = load_benchmark()
    return bench.run(
        requests=10_000,
        warmup_share=0.1,
        workers=2,
        clients=4,
        window=5.0,
        rss_budget_mib=bench.RSS_BUDGET_MIB,
    )


def test_no_invariant_fails(result: dict[str, Any]) -> None:
    assert result["failures"] == []


def test_normal_routes_never_get_a_5xx(result: dict[str, Any]) -> None:
    assert result["requests_by_group"]["normal"] > 6000
    assert result["unexpected_5xx_on_normal_routes"] == 0
    assert result["statuses"]["boom:500"] == 500  # the only 500s: the raising view
    fivexx = [key for key in result["statuses"] if key.partition(":")[2].startswith("5")]
    assert fivexx == ["boom:500"], result["statuses"]
    # Every request to the raising view was answered 500 and made one unhandled-error event.
    assert (
        result["statuses"]["boom:500"]
        == result["events"]["prodguard.error.unhandled"]["expected"]
    )


def test_every_event_is_written_or_counted(result: dict[str, Any]) -> None:
    events = result["events"]
    assert set(events) == {
        "prodguard.debugger.probe",
        "prodguard.error.http",
        "prodguard.error.unhandled",
    }
    for counts in events.values():
        assert counts["written"] + counts["suppressed"] == counts["expected"]
    # Flood control did act: most probes were counted, not written.
    probes = events["prodguard.debugger.probe"]
    assert probes["suppressed"] > probes["written"]


def test_log_volume_is_bounded(result: dict[str, Any]) -> None:
    assert result["event_lines"] <= result["event_line_bound"]
    assert result["event_lines"] < result["settings"]["requests"] / 4


def test_worker_memory_stays_flat(result: dict[str, Any]) -> None:
    growth = result["rss_growth_after_warmup_mib"]
    assert len(growth) == 2
    assert max(growth.values()) < 2.0
