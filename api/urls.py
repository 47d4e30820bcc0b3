"""Comparing the hosts of URLs: a request event's ``source`` against the requester's registered host.

URLs name the same host when scheme, host and port agree after normalisation (RFC 3986 §6.2.2,
§6.2.3): scheme and host compared case-insensitively, a default port equal to none, an
internationalised host as its IDNA form, a trailing dot dropped, and the loopback names
``localhost``, ``127.0.0.0/8`` and ``::1`` taken as one host. A scheme-relative source
(``//host/3/events``, as in the PACT v3 example events) takes the registered URL's scheme. Paths do
not matter: an answer always goes to the registered URL's ``/{2|3}/events``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
EVENTS_SUFFIX = re.compile(r"(/[23]/events)?/*$")
LOOPBACK = "(loopback)"


@dataclass(frozen=True)
class Origin:
    scheme: str | None  # None: scheme-relative
    host: str
    port: int | None  # None: the scheme's default

    def __str__(self) -> str:
        return f"{self.scheme + ':' if self.scheme else ''}//{self.host}{':' + str(self.port) if self.port else ''}"


def _host(name: str) -> str:
    host = name.lower().rstrip(".")
    try:
        if ipaddress.ip_address(host).is_loopback:
            return LOOPBACK
    except ValueError:
        pass
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761 §6.3
        return LOOPBACK
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"{name!r} is not a host name") from exc


def origin(url: str) -> Origin:
    """The (scheme, host, port) of an absolute http(s) URL or a scheme-relative one; ValueError
    for anything else."""
    text = url.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower() or None
    if scheme not in (None, "http", "https") or not text.lower().startswith((f"{parts.scheme}://", "//")):
        raise ValueError(f"{url!r} is not an http(s) URL")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a port that is not a number
        raise ValueError(f"{url!r}: {exc}") from exc
    if not host:
        raise ValueError(f"{url!r} names no host")
    if scheme and port == DEFAULT_PORTS[scheme]:
        port = None
    return Origin(scheme, _host(host), port)


def same_host(source: str, registered: str) -> bool:
    """Whether ``source`` names the host of the ``registered`` absolute URL (see the module)."""
    theirs, ours = origin(source), origin(registered)
    scheme = theirs.scheme or ours.scheme
    port = None if theirs.port == DEFAULT_PORTS.get(scheme) else theirs.port
    return (scheme, theirs.host, port) == (ours.scheme, ours.host, ours.port)


def callback_base(url: str) -> str:
    """A client's event host as registered: an absolute http(s) URL without trailing slash, and
    without a ``/2/events`` or ``/3/events`` the administrator may have copied along (answers go to
    ``<base>/{2|3}/events``). ValueError for anything else."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"callback URL {url!r} must be an absolute http(s) URL with a host and no query")
    origin(url)  # the port must be a number, the host a host name
    scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port and port != DEFAULT_PORTS[scheme] else "")
    return f"{scheme}://{netloc}{EVENTS_SUFFIX.sub('', parts.path)}"
