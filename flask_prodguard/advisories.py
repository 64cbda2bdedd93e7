"""Known security advisories of Werkzeug and Flask, kept offline in the package.

Each entry: the advisory ids, the affected version ranges (``[from, fixed)``)
and what it is about. Update this table with each release.

Versions are compared in PEP 440 order, as pip orders them
(:class:`packaging.version.Version`), and where that leaves a doubt the answer
is "affected": ``3.1.6rc1`` and ``3.1.6.dev0`` are not yet the fixed ``3.1.6``,
``3.1.5.post1`` is still before it, a pre-release of the first affected
version counts as that version (``3.0.0rc1`` holds the code of ``3.0.0``), and
a version PEP 440 cannot read may be affected by every advisory of its package.
"""

from __future__ import annotations

import dataclasses

from packaging.version import InvalidVersion
from packaging.version import Version


@dataclasses.dataclass(frozen=True)
class Advisory:
    """One advisory of :data:`ADVISORIES`, as the PG401 and PG402 checks report it."""

    #: The distribution name, lower case (``"werkzeug"``, ``"flask"``).
    package: str
    #: The GitHub advisory id (``GHSA-...``), and the CVE id if there is one.
    ghsa: str
    cve: str | None
    #: Affected ranges, each ``(first affected, first fixed)``.
    ranges: tuple[tuple[str, str], ...]
    summary: str

    @property
    def fixed(self) -> str:
        """The newest fixed version: what to upgrade to."""
        return max((fixed for _, fixed in self.ranges), key=Version)


#: Every known advisory, newest first for each package.
ADVISORIES: tuple[Advisory, ...] = (
    Advisory(
        "werkzeug",
        "GHSA-29vq-49wr-vm6x",
        "CVE-2026-27199",
        (("0", "3.1.6"),),
        "safe_join allows Windows device names after other path segments",
    ),
    Advisory(
        "werkzeug",
        "GHSA-87hc-h4r5-73f7",
        "CVE-2026-21860",
        (("0", "3.1.5"),),
        "safe_join allows Windows device names with compound extensions",
    ),
    Advisory(
        "werkzeug",
        "GHSA-hgf8-39gv-g3f2",
        "CVE-2025-66221",
        (("0", "3.1.4"),),
        "safe_join allows Windows special device names",
    ),
    Advisory(
        "werkzeug",
        "GHSA-f9vj-2wh5-fj8j",
        "CVE-2024-49766",
        (("0", "3.0.6"),),
        "safe_join not safe on Windows (UNC paths)",
    ),
    Advisory(
        "werkzeug",
        "GHSA-q34m-jh98-gwm2",
        "CVE-2024-49767",
        (("0", "3.0.6"),),
        "multipart form parsing can exhaust resources",
    ),
    Advisory(
        "werkzeug",
        "GHSA-2g68-c3qc-8985",
        "CVE-2024-34069",
        (("0", "3.0.3"),),
        "the debugger can be driven by a malicious site (remote code execution)",
    ),
    Advisory(
        "werkzeug",
        "GHSA-hrfv-mqp8-q5rw",
        "CVE-2023-46136",
        (("0", "2.3.8"), ("3.0.0", "3.0.1")),
        "multipart parsing of crafted data uses excessive CPU",
    ),
    Advisory(
        "werkzeug",
        "GHSA-xg9f-g7g7-2323",
        "CVE-2023-25577",
        (("0", "2.2.3"),),
        "unlimited multipart form parts (denial of service)",
    ),
    Advisory(
        "werkzeug",
        "GHSA-px8h-6qxv-m22q",
        "CVE-2023-23934",
        (("0", "2.2.3"),),
        "nameless cookies can shadow secure cookies",
    ),
    Advisory(
        "werkzeug",
        "GHSA-gq9m-qvpx-68hc",
        "CVE-2019-14806",
        (("0", "0.15.3"),),
        "debugger PIN predictable in containers (insufficient randomness)",
    ),
    Advisory(
        "werkzeug",
        "GHSA-h2fp-xgx6-xh6f",
        "CVE-2016-10516",
        (("0", "0.11.11"),),
        "cross-site scripting in the debugger's traceback page",
    ),
    Advisory(
        "flask",
        "GHSA-68rp-wp8r-4726",
        "CVE-2026-27205",
        (("0", "3.1.3"),),
        "session access does not always add Vary: Cookie (cached private pages)",
    ),
    Advisory(
        "flask",
        "GHSA-4grg-w6v8-c28g",
        "CVE-2025-47278",
        (("3.1.0", "3.1.1"),),
        "SECRET_KEY_FALLBACKS: the last fallback key signs instead of SECRET_KEY",
    ),
    Advisory(
        "flask",
        "GHSA-m2qf-hxjv-5gpq",
        "CVE-2023-30861",
        (("0", "2.2.5"), ("2.3.0", "2.3.2")),
        "permanent session cookie may be cached without Vary: Cookie",
    ),
    Advisory(
        "flask",
        "GHSA-5wv5-4vpf-pj6m",
        "CVE-2019-1010083",
        (("0", "1.0"),),
        "unexpected memory use decoding JSON (denial of service)",
    ),
    Advisory(
        "flask",
        "GHSA-562c-5r94-xh97",
        "CVE-2018-1000656",
        (("0", "0.12.3"),),
        "denial of service through crafted JSON",
    ),
)


def readable_version(text: str) -> bool:
    """Whether ``text`` is a version PEP 440 can read (and so can be compared).

    :param text: an installed version, as package metadata gives it.
    """
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def affecting(package: str, version: str) -> list[Advisory]:
    """The advisories of ``package`` that ``version`` is, or may be, affected by.

    A version is in a range ``[first, fixed)`` when its release is at least
    ``first`` (so a pre-release of ``first`` is in) and it is below ``fixed``
    in PEP 440 order (so a pre-release of ``fixed`` is still in). A version
    that cannot be read, or has an epoch, fails closed: every advisory of the
    package.

    :param package: the distribution name as the table spells it (``"flask"``).
    :param version: the installed version, as package metadata gives it.
    """
    advisories = [advisory for advisory in ADVISORIES if advisory.package == package]
    try:
        current = Version(version)
    except InvalidVersion:
        return advisories
    if current.epoch:
        # No release of Flask or Werkzeug has an epoch; one would order after
        # every range: not a version to read as fixed.
        return advisories
    # The release alone for the lower bound: 3.0.0rc1 holds the code of 3.0.0.
    release = Version(current.base_version)
    return [
        advisory
        for advisory in advisories
        if any(
            Version(first) <= release and current < Version(fixed)
            for first, fixed in advisory.ranges
        )
    ]
