"""Red-team reproducers against the final issue-14 request path (in process only).

Each test is a hole found on main by a last attack, closed at its cause.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask import Response
from flask import send_file
from flask_prodguard import ProdGuard


class _OwnStatusResponse(Response):
    """A response class that keeps its status in its own attributes."""

    @property  # type: ignore[override]
    def status_code(self) -> int:
        return int(self._own_status[:3])

    @status_code.setter
    def status_code(self, value: int) -> None:
        self._own_status = f"{value} CUSTOM"

    @property  # type: ignore[override]
    def status(self) -> str:
        return self._own_status

    @status.setter
    def status(self, value: Any) -> None:
        self._own_status = value if isinstance(value, str) else f"{value} CUSTOM"


def test_response_class_without_status_code_attribute_still_answers(
    build_app: Callable[..., Flask],
) -> None:
    """A response class that does not set ``_status_code`` keeps its normal 200."""
    app = build_app(PRODGUARD_ENV="production")
    app.response_class = _OwnStatusResponse
    ProdGuard(app)
    response = app.test_client().get("/")
    assert response.status_code == 200
    assert response.data == b"hello"


def test_5xx_header_with_port_and_at_sign_is_not_a_leak(
    build_app: Callable[..., Flask],
) -> None:
    """A 503 whose header holds a profile URL with a port is sent as the app made it."""
    app = build_app(PRODGUARD_ENV="production")

    @app.get("/maintenance")
    def maintenance() -> Response:
        return Response(
            "Down for maintenance",
            503,
            headers={"Link": '<https://social.example.com:8443/@status>; rel="me"'},
        )

    ProdGuard(app)
    response = app.test_client().get("/maintenance")
    assert response.status_code == 503
    assert response.data == b"Down for maintenance"
    assert response.headers["Link"] == '<https://social.example.com:8443/@status>; rel="me"'


class _FailingRaw(io.RawIOBase):
    """A file whose reads fail (a disk or network file system gone mid-request)."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise OSError("read failed on /srv/private/reports/q3.csv")


def test_send_file_read_failure_is_caught_by_the_net(build_app: Callable[..., Flask]) -> None:
    """A ``send_file`` body whose first read fails gets the generic 500, not a raw error."""
    app = build_app(PRODGUARD_ENV="production")

    @app.get("/report")
    def report() -> Response:
        return send_file(io.BufferedReader(_FailingRaw()), mimetype="text/csv")

    ProdGuard(app)
    response = app.test_client().get("/report")
    assert response.status_code == 500
    assert b"/srv/private" not in response.data
