"""Fetching from the web as a shared desk server may: every address checked, every byte bounded.

A name is resolved here and each address it gives is checked before the connection
is opened to that very address (no second look-up an attacker's DNS could answer
differently); a redirect is a new request, checked again. Private, loopback,
link-local, reserved and other non-public addresses are refused unless the desk
allows them. Each download is bounded in time (connect and total) and in size
while it streams (a ``Content-Length`` is a promise, never trusted alone); the
bytes of one link together are bounded by the same cap. Nothing is sent that
could log the desk in anywhere but the cookies of ``--cookies``, read for this
run only. Every exchange goes into the link's WARC as it was.
"""

from __future__ import annotations

import ipaddress
import socket
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar, LoadError, MozillaCookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from mediacheck import __version__
from mediacheck.errors import LinkError
from mediacheck.history import chain as history
from mediacheck.links.capture import Exchange, WarcCapture

USER_AGENT = f"mediacheck/{__version__}"
MAX_REDIRECTS = 10
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024
SCHEMES = ("http", "https")
MB = 1024 * 1024


@dataclass(frozen=True)
class FetchRules:
    max_bytes: int = 1024 * MB  # per download, and for all of one link's downloads together
    timeout: float = 120.0  # seconds for one download, from connecting to its last byte
    connect_timeout: float = 10.0
    allow_private: bool = False  # every address allowed
    allowed_networks: tuple[str, ...] = ()  # these networks allowed, beside public addresses
    cookies: Path | None = None  # a Netscape cookies file, read for this run, never stored

    def refusal(self, address: str) -> str | None:
        """Why ``address`` is refused under these rules, or None."""
        why = address_refusal(address)
        if why is None or self.allow_private:
            return None
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        inside = any(ip in ipaddress.ip_network(n, strict=False) for n in self.allowed_networks)
        return None if inside else why


@dataclass(frozen=True)
class Fetched:
    url: str  # as asked
    final_url: str  # after redirects
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: Path
    size: int
    fetched_at: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def check_url(url: str) -> None:
    """An http(s) URL with a host, or ``LinkError``."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise LinkError(f"not an http(s) URL: {url}")


def address_refusal(address: str) -> str | None:
    """Why a desk server must not connect to ``address``, or None for a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "unspecified", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "non-public"


def load_cookies(path: Path) -> CookieJar:
    """A Netscape cookies file as browsers export it (``#HttpOnly_`` lines, 0 for a session
    cookie's expiry), read as yt-dlp reads it: expired cookies too, the site decides."""
    jar = MozillaCookieJar(str(path))
    try:
        jar.load(ignore_discard=True, ignore_expires=True)
    except (OSError, LoadError) as exc:
        raise LinkError(f"{path}: not a Netscape cookies file: {exc}") from exc
    for cookie in jar:
        if cookie.expires == 0:  # a session cookie, as browsers export one
            cookie.expires, cookie.discard = None, True
    return jar


class Fetcher:
    """Fetches for one link, writing each exchange to its WARC and counting its bytes."""

    def __init__(self, rules: FetchRules, warc: WarcCapture, workdir: Path, cookies=None):
        self.rules = rules
        self.warc = warc
        self.workdir = workdir
        self.cookies: CookieJar | None = cookies
        self.used = 0  # bytes received for this link so far
        self._pools: dict[tuple[str, str, int], Any] = {}

    def get(self, url: str, headers: dict[str, str] | None = None) -> Fetched:
        """GET ``url``, following up to 10 redirects; any status is returned, not raised."""
        seen = {url}
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            fetched = self._once(url, current, headers or {})
            location = fetched.header("Location")
            if fetched.status not in REDIRECTS or not location:
                return fetched
            current = urljoin(current, location.strip())
            if current in seen:
                raise LinkError(f"redirect loop at {current}")
            seen.add(current)
        raise LinkError(f"more than {MAX_REDIRECTS} redirects")

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()

    def _once(self, asked: str, url: str, extra: dict[str, str]) -> Fetched:
        import urllib3

        check_url(url)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent = self._headers(url, parts.netloc, extra)
        started = time.monotonic()
        at = history.now()
        pool = self._pool(parts.scheme.lower(), parts.hostname or "", _port(parts))
        timeout = urllib3.Timeout(connect=self.rules.connect_timeout, read=self.rules.timeout)
        try:
            response = pool.urlopen(
                "GET", target, headers=dict(sent), redirect=False, retries=False,
                preload_content=False, decode_content=False, timeout=timeout,
                assert_same_host=False,
            )  # fmt: skip
        except urllib3.exceptions.HTTPError as exc:
            raise LinkError(_cause(exc, self.rules)) from exc
        try:
            headers = list(response.headers.iteritems())
            peer = _peer(response)
            body, size = self._body(response, started)
        finally:
            response.release_conn()
        protocol = "HTTP/1.0" if response.version == 10 else "HTTP/1.1"
        reason = response.reason or ""
        exchange = Exchange(
            url, "GET", target, sent, protocol, response.status, reason, headers, body, size,
            peer, at,
        )  # fmt: skip
        self.warc.exchange(exchange)
        return Fetched(asked, url, response.status, reason, headers, body, size, at)

    def _headers(self, url: str, host: str, extra: dict[str, str]) -> list[tuple[str, str]]:
        """What is sent: the extractor's headers, never its User-Agent, encoding or cookies."""
        own = {"host", "user-agent", "accept-encoding", "cookie", "connection"}
        sent = [("Host", host), ("User-Agent", USER_AGENT), ("Accept-Encoding", "identity")]
        sent += [(k, v) for k, v in extra.items() if k.lower() not in own]
        if not any(k.lower() == "accept" for k, _ in sent):
            sent.append(("Accept", "*/*"))
        if self.cookies is not None:
            request = urllib.request.Request(url)
            self.cookies.add_cookie_header(request)
            cookie = request.get_header("Cookie")
            if cookie:
                sent.append(("Cookie", cookie))
        return sent

    def _body(self, response, started: float) -> tuple[Path, int]:
        """Stream the body to a file, stopping at the size cap or the deadline."""
        limit = self.rules.max_bytes - self.used
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise LinkError(f"download larger than {_mb(self.rules.max_bytes)} (Content-Length)")
        fd, name = tempfile.mkstemp(dir=self.workdir, prefix="body-")
        size = 0
        with open(fd, "wb") as out:
            while True:
                left = self.rules.timeout - (time.monotonic() - started)
                if left <= 0:
                    raise LinkError(f"timed out after {self.rules.timeout:g} s")
                _set_timeout(response, left)
                chunk = self._read(response)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise LinkError(f"download larger than {_mb(self.rules.max_bytes)}: stopped")
                out.write(chunk)
        self.used += size
        return Path(name), size

    def _read(self, response) -> bytes:
        import urllib3

        try:
            return response.read(CHUNK, decode_content=False)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise LinkError(_cause(exc, self.rules)) from exc

    def _pool(self, scheme: str, host: str, port: int):
        key = (scheme, host, port)
        if key not in self._pools:
            self._pools[key] = _checked_pool(scheme, host, port, self.rules)
        return self._pools[key]


def _checked_pool(scheme: str, host: str, port: int, rules: FetchRules):
    """A connection pool whose connections check each address before connecting to it."""
    import urllib3
    from urllib3.connection import HTTPConnection, HTTPSConnection

    base = HTTPSConnection if scheme == "https" else HTTPConnection

    class Checked(base):  # type: ignore[valid-type, misc]
        peer: str | None = None  # the address connected to, for the WARC

        def _new_conn(self) -> socket.socket:
            sock = _connect(self._dns_host, self.port, self.timeout, rules)
            self.peer = str(sock.getpeername()[0])
            return sock

    pool_class = urllib3.HTTPSConnectionPool if scheme == "https" else urllib3.HTTPConnectionPool
    pool = pool_class(host, port, maxsize=1, block=False, retries=False)
    pool.ConnectionCls = Checked
    return pool


def _connect(host: str, port: int, timeout: Any, rules: FetchRules) -> socket.socket:
    """Resolve ``host``, check each address and connect to the first one allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise LinkError(f"cannot resolve {host}: {exc.strerror}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    refusals = {a: rules.refusal(a) for a in addresses}
    allowed = [a for a in addresses if refusals[a] is None]
    if not allowed:
        first = addresses[0]
        named = f"{host} is a" if host == first else f"{host} is {first}, a"
        raise LinkError(
            f"{named} {refusals[first]} address: refused "
            "(--allow-private lets a desk fetch from its own network)"
        )
    seconds = timeout if isinstance(timeout, int | float) else None
    failure: OSError | None = None
    for address in allowed:
        try:
            return socket.create_connection((address, port), timeout=seconds)
        except TimeoutError as exc:
            raise LinkError(f"connecting to {host} timed out") from exc
        except OSError as exc:
            failure = exc
    cause = failure.strerror if failure and failure.strerror else str(failure)
    raise LinkError(f"cannot connect to {host}: {cause}")


def _port(parts) -> int:
    try:
        port = parts.port
    except ValueError as exc:
        raise LinkError(f"not a valid port in {parts.geturl()}") from exc
    return port or (443 if parts.scheme.lower() == "https" else 80)


def _set_timeout(response, seconds: float) -> None:
    """The socket's next read may wait no longer than the download has left."""
    sock = getattr(response.connection, "sock", None) if response.connection else None
    if sock is not None:
        sock.settimeout(seconds)


def _peer(response) -> str | None:
    return getattr(response.connection, "peer", None)


def _cause(exc: BaseException, rules: FetchRules) -> str:
    """One line for a failed connection or read; a refusal keeps its own words."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, LinkError):
        return str(reason)
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, LinkError):
            return str(seen)
        if isinstance(seen, TimeoutError) or "timed out" in str(seen).lower():
            return f"timed out after {rules.timeout:g} s"
        seen = seen.__cause__ or seen.__context__
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _mb(size: int) -> str:
    return f"{size / MB:g} MB"


def read_text(path: Path, limit: int = 5 * MB) -> str:
    """A fetched page's text (its first ``limit`` bytes), for finding its media."""
    with open(path, "rb") as handle:
        data = handle.read(limit)
    return data.decode("utf-8", "replace")
