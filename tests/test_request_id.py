"""Request ids: trusted header when valid, generated lazily, bound to contextvars."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard.testing import capture_events


def _probe_id(app, **headers: str) -> str:  # type: ignore[no-untyped-def]
    with capture_events() as events:
        app.test_client().get("/?__debugger__=yes", headers=headers)
    return str(events[0]["request_id"])


def test_generated_when_no_header_configured(build_app: Callable[..., Flask]) -> None:
    """Without a configured header, ids are generated and incoming ones ignored."""
    app = build_app("rid-gen", PRODGUARD_ENV="production")
    ProdGuard(app)
    first = _probe_id(app, **{"X-Request-ID": "from-client"})
    assert first != "from-client" and len(first) == 32
    assert _probe_id(app) != first


def test_trusted_header_used_when_valid(build_app: Callable[..., Flask]) -> None:
    """A valid value of the configured header becomes the request id."""
    app = build_app(
        "rid-hdr", PRODGUARD_ENV="production", PRODGUARD_REQUEST_ID_HEADER="X-Request-ID"
    )
    ProdGuard(app)
    assert _probe_id(app, **{"X-Request-ID": "lb-7f3a:1234"}) == "lb-7f3a:1234"


def test_invalid_header_values_replaced(build_app: Callable[..., Flask]) -> None:
    """Over-long values or values with odd characters are not trusted."""
    app = build_app(
        "rid-bad", PRODGUARD_ENV="production", PRODGUARD_REQUEST_ID_HEADER="X-Request-ID"
    )
    ProdGuard(app)
    for bad in ("a" * 129, "id with spaces", "id\x1b[31m", "<script>", "id;drop"):
        assert _probe_id(app, **{"X-Request-ID": bad}) != bad


def test_echoed_in_response_header_when_configured(build_app: Callable[..., Flask]) -> None:
    """The response header carries the same id as the events."""
    app = build_app(
        "rid-echo",
        PRODGUARD_ENV="production",
        PRODGUARD_REQUEST_ID_RESPONSE_HEADER="X-Request-ID",
    )
    ProdGuard(app)
    client = app.test_client()
    assert len(client.get("/").headers["X-Request-ID"]) == 32
    with capture_events() as events:
        response = client.get("/?__debugger__=yes")
    assert response.headers["X-Request-ID"] == events[0]["request_id"]


def test_no_header_and_no_id_for_quiet_requests(build_app: Callable[..., Flask]) -> None:
    """Requests that log nothing get no id (lazy) and no header unless configured."""
    app = build_app("rid-lazy", PRODGUARD_ENV="production")
    ProdGuard(app)
    seen: list[object] = []

    @app.get("/peek")
    def peek() -> str:
        from flask import request

        seen.append(request.environ.get("prodguard.request_id"))
        return "ok"

    response = app.test_client().get("/peek")
    assert seen == [None] and "X-Request-ID" not in response.headers


def test_bound_for_the_request_without_clearing_app_context(
    build_app: Callable[..., Flask],
) -> None:
    """The id is in structlog's contextvars during the request; the app's own stay."""
    app = build_app("rid-ctx", PRODGUARD_ENV="production")
    ProdGuard(app)
    inside: list[dict[str, object]] = []

    @app.get("/fail-and-look")
    def fail_and_look() -> str:
        from flask import request

        state = app.extensions["prodguard"]
        state.emitter.request_id(request.environ)
        inside.append(structlog.contextvars.get_contextvars())
        return "ok"

    structlog.contextvars.bind_contextvars(app_key="kept")
    try:
        app.test_client().get("/fail-and-look")
        after = structlog.contextvars.get_contextvars()
    finally:
        structlog.contextvars.clear_contextvars()
    assert inside[0]["app_key"] == "kept" and len(str(inside[0]["request_id"])) == 32
    assert after == {"app_key": "kept"}
