"""Which network addresses the app may call on a user's behalf, decided on the
address actually connected to.

A webhook URL is the user's, so from inside our VPC a POST to it could reach
loopback, the instance metadata service (169.254.169.254), private subnets or
RDS. A check of the URL's text cannot settle this: resolvers read `2130706433`,
`0x7f.1` and `127.1` as 127.0.0.1, `0` as 0.0.0.0, and a public name may resolve
to a private address, or to another one on the second lookup. So:

- `literal_address` reads a host the way a resolver does (`inet_aton`
  semantics for the legacy numeric IPv4 forms), for a cheap refusal at signup;
- `pin` resolves the host once when sending, refuses if ANY address is not
  public (`is_public`, which also looks inside IPv4-mapped, -compatible, 6to4
  and NAT64 IPv6 forms), and returns the URL rewritten to the checked address:
  the caller connects there, sending the original name as Host and TLS SNI, so
  the certificate is still verified against the name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
"""Host name and port -> the addresses (text) a connection may go to."""

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Names that never mean a public host, whatever DNS says.
_LOCAL_NAMES = ("localhost",)
_LOCAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain")


class AddressRefusedError(ValueError):
    """The URL points (or resolves) to an address the app must not call."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (TCP), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, compatible, 6to4, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or int(address) >> 32 == 0:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """True only for a global unicast address (an IPv6 form of an IPv4 address is
    judged by that IPv4 address): never loopback, private, link-local (metadata),
    shared, multicast, unspecified or reserved."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not (address.is_multicast or address.is_reserved)


def literal_address(host: str) -> IPAddress | None:
    """The address `host` denotes without DNS, read as resolvers read it (so
    `127.1`, `0x7f.1`, `2130706433` and `0` are addresses); None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def check_host(host: str) -> None:
    """Refuse a host that is written as a non-public address or is a local-only
    name (a trailing dot changes nothing). A public-looking name passes: its
    addresses are checked when the app connects (`pin`)."""
    name = host.lower().rstrip(".")
    if not name or name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        raise AddressRefusedError("must point to a public host")
    address = literal_address(name)
    if address is not None and not is_public(address):
        raise AddressRefusedError("must point to a public address")


@dataclass(frozen=True)
class PinnedURL:
    """Where to connect (`url`, host replaced by the checked address) and what to
    tell the server (`host_header`, `sni_hostname`: the original name)."""

    url: str
    host_header: str
    sni_hostname: str
    address: str


def pin(url: str, resolver: Resolver, allow: Callable[[IPAddress], bool] = is_public) -> PinnedURL:
    """Resolve `url`'s host once, refuse it unless every address passes `allow`
    (public only, unless a test says otherwise), and pin the first address."""
    parsed = httpx.URL(url)
    if parsed.scheme != "https" or not parsed.host:
        raise AddressRefusedError("must be an https:// URL")
    check_host(parsed.host)
    host = parsed.raw_host.decode("ascii")
    literal = literal_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        addresses = [ipaddress.ip_address(a) for a in resolver(host, parsed.port or 443)]
    if not addresses:
        raise AddressRefusedError(f"{host} has no address")
    refused = [str(a) for a in addresses if not allow(a)]
    if refused:
        raise AddressRefusedError(f"{host} resolves to a non-public address ({refused[0]})")
    chosen = addresses[0]
    host_header = host if parsed.port is None else f"{host}:{parsed.port}"
    return PinnedURL(
        url=str(parsed.copy_with(host=str(chosen))),
        host_header=host_header,
        sni_hostname=host,
        address=str(chosen),
    )
