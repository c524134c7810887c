"""A web client's address, as sign-in throttling counts it and as logs and the audit show it.

The address comes from the socket, or from X-Forwarded-For when the operator said how many
proxies to believe (TRUSTED_PROXIES); either way it is outside input, so it is parsed, never
used as given. Throttling counts an IPv6 client by its /64: one subscriber holds a whole
/64 and could otherwise take a fresh address for every guess. Screens and logs get the
network only (/24, /48), like the masked phone numbers.
"""

from __future__ import annotations

import ipaddress

UNKNOWN = "unknown"  # no address, or one that does not parse: one shared bucket
THROTTLE_V6_PREFIX = 64
MASK_V4_PREFIX, MASK_V6_PREFIX = 24, 48


def _parse(address: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not address or len(address) > 64:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
    return ip


def throttle_key(address: str | None) -> str:
    """The bucket failed sign-ins are counted in: the IPv4 address, or the IPv6 /64."""
    ip = _parse(address)
    if ip is None:
        return UNKNOWN
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    return str(ipaddress.IPv6Network((ip, THROTTLE_V6_PREFIX), strict=False))


def masked(address: str | None) -> str:
    """The network only, e.g. 203.0.113.0/24 or 2001:db8:1::/48, for logs and the audit."""
    ip = _parse(address)
    if ip is None:
        return UNKNOWN
    prefix = MASK_V4_PREFIX if isinstance(ip, ipaddress.IPv4Address) else MASK_V6_PREFIX
    return str(ipaddress.ip_network((ip, prefix), strict=False))
