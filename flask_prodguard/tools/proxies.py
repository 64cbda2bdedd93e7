"""Who can forge ``X-Forwarded-For``: a proxy hop trusted on an open address.

With ``PRODGUARD_TRUSTED_PROXIES`` set, the guard's ``ProxyFix`` believes the
last hops of ``X-Forwarded-*``. That is right when only the proxy reaches the
app; when the app listens beyond loopback, any client that reaches it directly
can write those headers and choose the address its events show.
``flask prodguard serve`` and ``flask prodguard deploy-config`` say so in the
same words, from here.
"""

from __future__ import annotations

import ipaddress

#: What to do about it, whichever tool says it.
BIND_TO_LOOPBACK = "Bind it to 127.0.0.1 (or firewall the port)"


def listens_on_loopback_only(host: str) -> bool:
    """Whether an app listening on ``host`` is reachable from this machine only.

    ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``) are; a
    wildcard (``0.0.0.0``, ``::``), any other address, and a host name other
    than ``localhost`` (which may resolve anywhere) are not.

    :param host: The address as the server binds it: an IPv6 address with or
        without brackets.
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def forgeable_forwarding(bind: str, hops: int) -> str:
    """The risk in words: ``the app listens on BIND and trusts one proxy hop:
    a client that reaches it directly can forge X-Forwarded-For``.

    :param bind: Where the app listens, as the user wrote it (``HOST:PORT``).
    :param hops: The proxy hops the guard trusts (``PRODGUARD_TRUSTED_PROXIES``).
    """
    trusted = "one proxy hop" if hops == 1 else f"{hops} proxy hops"
    return (
        f"the app listens on {bind} and trusts {trusted}: a client"
        " that reaches it directly can forge X-Forwarded-For"
    )


def forgeable_forwarding_warning(bind: str, hops: int, remedy: str) -> str:
    """The warning ``serve`` and ``deploy-config`` print for an app that trusts
    proxy hops while it listens beyond loopback.

    :param bind: Where the app listens, as the user wrote it (``HOST:PORT``).
    :param hops: The proxy hops the guard trusts.
    :param remedy: The other way out, completing "Bind it to 127.0.0.1 (or
        firewall the port), or ...": ``"pass --no-behind-proxy"``.
    """
    return f"Warning: {forgeable_forwarding(bind, hops)}. {BIND_TO_LOOPBACK}, or {remedy}."


__all__ = [
    "BIND_TO_LOOPBACK",
    "forgeable_forwarding",
    "forgeable_forwarding_warning",
    "listens_on_loopback_only",
]
