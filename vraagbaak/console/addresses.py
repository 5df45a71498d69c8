"""Which address a login comes from, for slowing down password guessing.

The address is the other end of the connection. Only when that is a proxy named in
VRAAGBAAK_CONSOLE_TRUSTED_PROXIES (nginx on this host: 127.0.0.1) does the console believe the headers the
proxy adds: anybody else could write any address in them and so escape the per-address limit.

X-Forwarded-For is read from the right: each trusted proxy appends the address it saw, so the first address
from the right that is not a trusted proxy is the client; what lies left of it was written by the client and
is ignored. X-Real-IP counts only when there is no X-Forwarded-For. The proxy must therefore set one of them
itself (nginx: `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`), so a client cannot.
"""
from __future__ import annotations

import ipaddress
from typing import Iterable, Sequence, Tuple

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "onbekend"
# One IPv6 connection usually comes with a whole /64 to choose addresses from: counted as one address.
IPV6_GROUP = 64


def networks(values: Iterable[str]) -> Tuple[IPNetwork, ...]:
    """The trusted proxies from the settings (already checked there)."""
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def parse(value: str | None) -> IPAddress | None:
    """An address from a header or the socket ('[::1]', '1.2.3.4:5678' and mapped IPv4 too), or None."""
    text = (value or "").strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def client_address(
    peer: str | None,
    forwarded_for: Sequence[str],
    real_ip: str | None,
    proxies: Sequence[IPNetwork],
) -> IPAddress | None:
    """The client's address: the peer's, or from the headers when the peer is a trusted proxy."""
    address = parse(peer)
    if address is None or not _trusted(address, proxies):
        return address
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    if not hops:
        return parse(real_ip) or address
    for hop in reversed(hops):
        parsed = parse(hop)
        if parsed is None:
            return address  # unreadable: the last address a trusted proxy vouched for is all we know
        address = parsed
        if not _trusted(address, proxies):
            return address
    return address


def address_key(address: IPAddress | None) -> str:
    """The text the login limits count by: the IPv4 address, or the IPv6 /64 it belongs to."""
    if address is None:
        return UNKNOWN
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/{IPV6_GROUP}", strict=False))
    return str(address)
