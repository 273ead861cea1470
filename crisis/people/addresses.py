"""The client address that login throttling keys on: REMOTE_ADDR, or our own proxy's word."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """REMOTE_ADDR; behind TRUSTED_PROXY_COUNT proxies, the X-Forwarded-For entry that the
    outermost of them appended (it saw the client's connection). Entries further left come
    from the client and are ignored, so a client cannot choose the address it is locked by."""
    remote = _valid(request.META.get("REMOTE_ADDR", "")) or request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    chain = [entry for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry]
    if len(chain) < hops:
        # A request that did not come through all our proxies: its own connection is all we know.
        return remote
    return _valid(chain[-hops]) or remote
