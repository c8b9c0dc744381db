"""Which sites the fetcher may visit, and how often: robots.txt, private addresses, pacing.

A site is an origin (scheme, host, port). The fetcher keeps one `Site` per origin for its
whole life: a `HostGate` that bounds requests in flight and spaces their starts, and the
robots.txt rules, read once (RFC 9309: a 4xx robots.txt allows everything; a 5xx or an
unreachable one is treated as "do not crawl" until the next fetcher). User-supplied URLs
must not reach the office network (SPEC 3.18): `private_refusal` says why a host is refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from protego import Protego

CRAWL_DELAY_CAP = 60.0
"""Longest Crawl-delay honoured, in seconds: a bigger one would stall every run on the site."""

Origin = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """What one origin's robots.txt says; `problem` (in words) means it could not be read."""

    parser: Protego | None = None
    problem: str | None = None

    @classmethod
    def from_response(cls, status: int, body: bytes) -> RobotsRules:
        """Rules from the robots.txt response: 2xx parsed, 4xx (but 429) allow all, anything
        else refuses."""
        if 200 <= status < 300:
            return cls(parser=Protego.parse(body.decode("utf-8", errors="replace")))
        if 400 <= status < 500 and status != 429:
            return cls()
        return cls(problem=f"服务器返回 {status}")

    def refusal(self, url: str, agent: str) -> str | None:
        """Why `agent` may not fetch `url`, in words; None when it may."""
        if self.problem is not None:
            return f"无法读取 robots.txt（{self.problem}），暂不抓取该站点"
        if self.parser is not None and not self.parser.can_fetch(url, agent):
            return "robots.txt 不允许抓取"
        return None

    def crawl_delay(self, agent: str) -> float:
        """Seconds the site asks between two requests (0 when it asks nothing), capped."""
        if self.parser is None:
            return 0.0
        delay = self.parser.crawl_delay(agent)
        return min(float(delay), CRAWL_DELAY_CAP) if delay else 0.0


class HostGate:
    """At most `concurrency` requests in flight to one origin, starts `interval` s apart."""

    def __init__(self, concurrency: int, interval: float) -> None:
        self.interval = interval
        self._slots = asyncio.Semaphore(concurrency)
        self._pace = asyncio.Lock()
        self._next_start = 0.0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the origin's request slots, waiting for its turn to start."""
        async with self._slots:
            async with self._pace:
                wait = self._next_start - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._next_start = time.monotonic() + self.interval
            yield


@dataclass(slots=True)
class Site:
    """One origin the fetcher has talked to: its gate and its robots.txt, once read."""

    gate: HostGate
    robots: RobotsRules | None = None
    robots_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def adopt(self, rules: RobotsRules, agent: str) -> RobotsRules:
        """Keep the robots.txt rules; a Crawl-delay raises the interval between requests."""
        self.robots = rules
        self.gate.interval = max(self.gate.interval, rules.crawl_delay(agent))
        return rules


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


async def resolve(host: str, port: int, timeout: float) -> list[Address]:
    """The addresses `host` stands for (itself when it is an IP literal); raises OSError or
    TimeoutError when it does not resolve in time."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    async with asyncio.timeout(timeout):
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def private_refusal(host: str, addresses: list[Address]) -> str | None:
    """Why `host` may not be fetched (it resolves to a non-public address), in words."""
    for address in addresses:
        if is_private(address):
            what = host if host == str(address) else f"{host} 指向的 {address}"
            return (
                f"{what} 是内网或保留地址，不允许抓取"
                "（抓取本单位内网的源需设置 YUQING_COLLECT_ALLOW_PRIVATE_ADDRESSES=true）"
            )
    return None


def is_private(address: Address) -> bool:
    """Loopback, private, link-local, reserved, multicast, unspecified or otherwise not
    globally routable (carrier-grade NAT, documentation ranges); IPv4-mapped IPv6 included."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )
