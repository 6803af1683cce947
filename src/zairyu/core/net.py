"""Where a request comes from, and simple per-address throttling."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

FOREIGN_NETWORK_MESSAGE = _(
    "Online applications cannot be sent from outside Japan, and this connection comes "
    "from a network abroad. Connect from a network in Japan (switch off any VPN or proxy "
    "abroad) and try again."
)
"""F-01's network rule in the words every surface uses: the applicant pages, the API's problem
and the timing rule (``applications.rules.timing``)."""


@lru_cache(maxsize=32)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def address_in(address: str, networks: list[str] | tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(networks)))


def client_ip(request: HttpRequest) -> str:
    """The client's address. ``X-Forwarded-For`` is believed only when the direct peer is one of
    ``TRUSTED_PROXIES``, and then only up to the first hop that is not a trusted proxy."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXIES
    if not proxies or not address_in(remote, proxies):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not address_in(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a forged, malformed header: fall back to the proxy itself
    return remote


def throttle_hit(*, scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one event; True while the count within the window stays within ``limit``."""
    cache_key = f"throttle:{scope}:{key}"
    redis_cache = getattr(cache, "_cache", None)
    if hasattr(redis_cache, "get_client"):  # Redis: one round trip (INCR, and EXPIRE when new)
        raw_key = cache.make_and_validate_key(cache_key)
        pipeline = redis_cache.get_client(raw_key, write=True).pipeline()
        pipeline.incr(raw_key)
        pipeline.expire(raw_key, window_seconds, nx=True)
        count, _expiry = pipeline.execute()
        return int(count) <= limit
    try:
        count = cache.incr(cache_key)  # one round trip while the window is open
    except ValueError:  # no window yet (or it just expired): open one
        count = 1 if cache.add(cache_key, 1, timeout=window_seconds) else cache.incr(cache_key)
    return count <= limit


def throttle_exceeded(*, scope: str, key: str, limit: int) -> bool:
    return (cache.get(f"throttle:{scope}:{key}") or 0) >= limit
