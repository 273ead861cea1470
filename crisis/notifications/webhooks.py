"""Outgoing webhook transport: which addresses Calma may reach, signing, one bounded POST.

No database here. A POST resolves the host itself, refuses the whole send when any of the
host's addresses is private (unless the caller allows it), and connects to an address it
checked, so a name that resolves differently a moment later (DNS rebinding) cannot steer it
elsewhere. Redirects are never followed; at most MAX_RESPONSE_BYTES of the answer are read.

The signature is the intake's scheme (monitoring.connectors.webhook): the header
``X-Calma-Signature: sha256=<hex>``, the lowercase hex HMAC-SHA256 of the raw body bytes keyed
with the endpoint's secret, so a receiver verifies it exactly as Calma verifies pushes.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from monitoring.connectors.webhook import SIGNATURE_HEADER, sign

EVENT_ID_HEADER = "X-Calma-Event-Id"
EVENT_KIND_HEADER = "X-Calma-Event"
USER_AGENT = "Calma-Webhooks/1"
MAX_RESPONSE_BYTES = 4096
# The whole exchange (send, status line, headers, the bounded body) within this many timeouts.
EXCHANGE_DEADLINE_FACTOR = 3
# A name with many addresses: connect to at most this many of them (each within the timeout).
MAX_ADDRESSES_TRIED = 3
# The longest one POST can take, in timeouts: what a worker's claim on a delivery must outlast.
LONGEST_POST_IN_TIMEOUTS = MAX_ADDRESSES_TRIED + EXCHANGE_DEADLINE_FACTOR

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

__all__ = [
    "EVENT_ID_HEADER",
    "EVENT_KIND_HEADER",
    "SIGNATURE_HEADER",
    "AddressRefused",
    "Answer",
    "DeliveryError",
    "PermanentDeliveryError",
    "TransientDeliveryError",
    "address_refusal",
    "check_url",
    "post",
    "sign",
]


class DeliveryError(Exception):
    """A send that did not get a 2xx answer; the message says why, for the delivery log."""

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


class TransientDeliveryError(DeliveryError):
    """Worth another try: a timeout, a dropped connection, a 5xx or a 429."""

    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """No retry will help: the address is refused, the receiver said 4xx, a redirect."""


class AddressRefused(PermanentDeliveryError):
    """The URL points at an address outgoing webhooks may not reach."""


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    body: bytes  # at most MAX_RESPONSE_BYTES
    retry_after: float | None
    location: str


# --- Which addresses ---------------------------------------------------------------------------


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    # An IPv6 address that carries an IPv4 one reaches that IPv4 host (mapped, 6to4, NAT64).
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in ipaddress.IPv6Network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_refusal(address: str | Address) -> str:
    """Why outgoing webhooks may not reach this address ("" when it is a public one)."""
    address = ipaddress.ip_address(address)
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return address_refusal(embedded)
    if address.is_unspecified:
        return _("%(address)s is an unspecified address") % {"address": address}
    if address.is_loopback:
        return _("%(address)s is a loopback address") % {"address": address}
    if address.is_link_local:
        return _("%(address)s is a link-local address") % {"address": address}
    if address.is_multicast:
        return _("%(address)s is a multicast address") % {"address": address}
    if address.is_private:
        return _("%(address)s is a private address") % {"address": address}
    if address.is_reserved:
        return _("%(address)s is a reserved address") % {"address": address}
    if not address.is_global:
        return _("%(address)s is not a public address") % {"address": address}
    return ""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the host resolves to (A and AAAA), in the system's order, no duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # An IPv6 sockaddr may carry a zone ("fe80::1%eth0"); the part before it is the address.
        address = str(sockaddr[0]).split("%", 1)[0]
        if address not in addresses:
            addresses.append(address)
    return addresses


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def check_url(url: str) -> Target:
    """The parts of an http(s) URL a webhook may use, or PermanentDeliveryError saying why."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise PermanentDeliveryError(_("The address is not a valid URL: %s") % error) from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise PermanentDeliveryError(_("Only http and https addresses can receive webhooks."))
    if not parts.hostname:
        raise PermanentDeliveryError(_("The address has no host."))
    if parts.username is not None or parts.password is not None:
        raise PermanentDeliveryError(
            _("Put no user name or password in the address; use a signing secret instead.")
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(
        scheme=scheme,
        host=parts.hostname,
        port=port or (443 if scheme == "https" else 80),
        path=path,
    )


def allowed_addresses(
    target: Target, *, allow_private: bool, resolve: Resolver = system_resolver
) -> list[str]:
    """The checked addresses to connect to; AddressRefused if any of them is not allowed."""
    try:
        literal = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = resolve(target.host, target.port)
        except (OSError, UnicodeError) as error:
            # A name that does not resolve now may resolve later (DNS down): retry.
            raise TransientDeliveryError(
                _("Could not resolve %(host)s: %(error)s") % {"host": target.host, "error": error}
            ) from error
        if not addresses:
            raise TransientDeliveryError(_("%(host)s has no address") % {"host": target.host})
    if not allow_private:
        for address in addresses:
            reason = address_refusal(address)
            if not reason:
                continue
            if literal is None:
                reason = _(
                    "%(host)s resolves to an address webhooks may not reach (%(reason)s)"
                ) % {
                    "host": target.host,
                    "reason": reason,
                }
            raise AddressRefused(
                _(
                    "Refused: %(reason)s. Outgoing webhooks reach public addresses only, unless "
                    "an admin allows private addresses on the webhooks page."
                )
                % {"reason": reason}
            )
    return addresses


# --- Sending -----------------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to an address already checked; the Host header keeps the name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address already checked; the certificate is verified against the name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _retry_after(value: str | None) -> float | None:
    # Only the delta-seconds form; an HTTP date is rare from webhook receivers.
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 86_400 else None


def post(
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str],
    allow_private: bool,
    timeout: float,
    resolve: Resolver = system_resolver,
) -> Answer:
    """POST the body once and return the answer (any status), or raise a DeliveryError when
    there is no answer (refused address, no connection, timeout, a connection dropped)."""
    target = check_url(url)
    addresses = allowed_addresses(target, allow_private=allow_private, resolve=resolve)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    last_error = TransientDeliveryError(_("%(host)s has no address") % {"host": target.host})
    for address in addresses[:MAX_ADDRESSES_TRIED]:
        connection = connection_class(target.host, target.port, address=address, timeout=timeout)
        try:
            try:
                connection.connect()
            except ssl.SSLCertVerificationError as error:
                raise PermanentDeliveryError(
                    _("The receiver's certificate is not valid: %s") % error.verify_message
                ) from error
            except TimeoutError as error:
                last_error = TransientDeliveryError(
                    _("Connecting to %(address)s timed out after %(seconds)s s")
                    % {"address": address, "seconds": timeout}
                )
                last_error.__cause__ = error
                continue
            except OSError as error:
                last_error = TransientDeliveryError(
                    _("Could not connect to %(address)s: %(error)s")
                    % {"address": address, "error": error}
                )
                last_error.__cause__ = error
                continue
            return _exchange(connection, target, body, headers, timeout)
        finally:
            connection.close()
    raise last_error


def _exchange(
    connection: http.client.HTTPConnection,
    target: Target,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
) -> Answer:
    all_headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        **headers,
    }
    # The socket timeout bounds each step; a receiver dripping its answer a byte at a time
    # would still hold the worker, so the whole exchange also has a deadline, after which
    # the socket is shut down under the blocked read.
    fired = threading.Event()
    watchdog = threading.Timer(EXCHANGE_DEADLINE_FACTOR * timeout, _abort, args=(connection, fired))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", target.path, body=body, headers=all_headers)
        response = connection.getresponse()
        answer_body = response.read(MAX_RESPONSE_BYTES)
    except TimeoutError as error:
        raise TransientDeliveryError(
            _("No answer within %(seconds)s s") % {"seconds": timeout}
        ) from error
    except (OSError, http.client.HTTPException) as error:
        if fired.is_set():
            raise TransientDeliveryError(
                _("No complete answer within %(seconds)s s")
                % {"seconds": EXCHANGE_DEADLINE_FACTOR * timeout}
            ) from error
        # Includes a receiver that took the request and closed without answering: it may
        # have processed it, so the retry carries the same event id for it to drop.
        raise TransientDeliveryError(
            _("The connection failed before an answer: %(error)s")
            % {"error": str(error) or type(error).__name__}
        ) from error
    finally:
        watchdog.cancel()
    return Answer(
        status_code=response.status,
        body=answer_body,
        retry_after=_retry_after(response.getheader("Retry-After")),
        location=(response.getheader("Location") or "")[:300],
    )


def _abort(connection: http.client.HTTPConnection, fired: threading.Event) -> None:
    fired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


def signed_headers(*, body: bytes, secret: str, event_id: str, kind: str) -> dict[str, str]:
    """The event headers, plus the signature when the endpoint has a secret."""
    headers = {EVENT_ID_HEADER: event_id, EVENT_KIND_HEADER: kind}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    return headers
