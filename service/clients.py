"""Who a request comes from, as the rate limit counts it.

The direct peer is the client, unless it is one of the operator's trusted
proxies (``GRIDGOV_TRUSTED_PROXIES``). Then ``X-Forwarded-For`` is read from
the right, where the nearest proxy appended the address it saw, and the client
is the right-most address that is not itself a trusted proxy: everything to
its left was written by the client and proves nothing.

This is the app's one rule for it; ``gridgov serve`` runs uvicorn without its
own proxy-header handling so that the two cannot disagree (see ``api/cli.py``).
Only ``X-Forwarded-For`` is read: the proxies in front of the service are told
to set it, and a ``Forwarded`` header, which a proxy may pass through from the
client untouched, is ignored rather than trusted.

Framework-free: the web layer hands in the peer's address and the header's text.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# More hops than any real chain of proxies; a longer header is not walked further.
MAX_HOPS = 32


def parse_networks(text: str) -> tuple[Network, ...]:
    """The trusted proxies from ``GRIDGOV_TRUSTED_PROXIES``: comma-separated addresses or
    CIDR networks (``10.0.0.1, 172.16.0.0/12, fd00::/8``); empty for none.

    Raises
    ------
    ValueError
        Naming the entry that is neither, so that a typo stops the service at start
        instead of silently trusting no proxy (or the wrong one).
    """
    networks = []
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            # host bits allowed: "10.1.2.3/24" names the proxies' subnet 10.1.2.0/24
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"trusted proxy {entry!r} is not an IP address or a CIDR network "
                "(like 10.0.0.1 or 10.0.0.0/8)"
            ) from None
    return tuple(networks)


def parse_address(text: str) -> Address | None:
    """One address as a proxy writes it, or None when ``text`` is not one.

    Accepts a bare IPv4 or IPv6 address, IPv4 with a port (``192.0.2.1:5060``) and
    bracketed IPv6 with or without one (``[2001:db8::1]:443``); an IPv4-mapped IPv6
    address (``::ffff:192.0.2.1``, what a dual-stack socket reports) is read as the
    IPv4 address it carries, so that IPv4 networks match it.
    """
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        rest = text[end + 1 :] if end > 0 else "?"
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return None
        text = text[1:end]
    elif text.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has two or more
        text, _, port = text.partition(":")
        if not port.isdigit():
            return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address in network for network in trusted)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The client a request counts against: see the module's docstring for the rule.

    ``peer`` is the address of the direct connection (None when the server does not
    know it); ``forwarded_for`` the ``X-Forwarded-For`` header, several of them
    joined with commas. A header that cannot be read where it matters (empty,
    ``unknown``, not an address) counts the request against the peer: it never
    fails the request, and never opens a bucket of its own.
    """
    peer_address = parse_address(peer) if peer else None
    if peer_address is None:
        return peer or "?"
    own = str(peer_address)
    if not forwarded_for or not _trusted(peer_address, trusted):
        return own
    hops = forwarded_for.rsplit(",", MAX_HOPS)[-MAX_HOPS:]
    furthest = None
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            return own
        if not _trusted(address, trusted):
            return str(address)
        furthest = address
    # every hop read is a trusted proxy: the request started inside the proxies' network
    return str(furthest) if furthest is not None else own
