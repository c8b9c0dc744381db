"""A real local HTTP server for the collection tests.

It serves the files under `tests/fixtures/sites/` (with ETag and Last-Modified, answering
conditional requests with 304) and routes that a test registers for behaviour a file cannot
show: slow answers, truncated bodies, status codes, redirect loops, huge bodies. Every request
is logged, so tests can assert what the fetcher sent (User-Agent, validators, pacing).
"""

from __future__ import annotations

import email.utils
import hashlib
import mimetypes
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from yuqing.settings import Settings

SITES = Path(__file__).resolve().parent / "fixtures" / "sites"

Handler = Callable[[BaseHTTPRequestHandler], None]

FETCHING_LOCALLY: dict[str, object] = {
    "collect_allow_private_addresses": True,  # the fixture server is on 127.0.0.1
    "collect_host_interval_seconds": 0.0,
    "collect_backoff_seconds": 0.01,
    "collect_timeout_seconds": 2.0,
}
RUNNING_QUICKLY: dict[str, object] = {
    **FETCHING_LOCALLY,
    "collect_retries": 1,
    "collect_jitter_seconds": 0.0,
    "collect_failure_limit": 2,
}


def fetching_locally(settings: Settings, *, runs: bool = False) -> Settings:
    """`settings` made to fetch from this server without waits; with `runs`, also one retry,
    no jitter and a source flagged after two failed runs (for runner and scheduler tests)."""
    return settings.model_copy(update=RUNNING_QUICKLY if runs else FETCHING_LOCALLY)


@dataclass(frozen=True, slots=True)
class Logged:
    """One request the server received."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]
    at: float  # time.monotonic() when it arrived


def reply(
    request: BaseHTTPRequestHandler,
    status: int = 200,
    body: bytes | str = b"",
    content_type: str = "text/html; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> None:
    """Send a whole response from a route handler."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(data)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (a timeout, a size cap, a cancelled run) is not news."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


@dataclass
class FixtureServer:
    """The server and its routes; `url(path)` gives an absolute URL on it."""

    root: Path = SITES
    routes: dict[str, Handler] = field(default_factory=dict)
    log: list[Logged] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without this each response waits
            # for the client's delayed ACK (about 40 ms).
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                owner._handle(self)

            def do_HEAD(self) -> None:
                owner._handle(self)

            def do_POST(self) -> None:
                owner._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def route(self, path: str, handler: Handler) -> str:
        """Serve `path` (without query) by `handler`; returns its absolute URL."""
        self.routes["/" + path.lstrip("/")] = handler
        return self.url(path)

    def requests_to(self, path: str) -> list[Logged]:
        wanted = "/" + path.lstrip("/")
        return [r for r in self.log if urlsplit(r.path).path == wanted]

    def reset(self) -> None:
        self.routes.clear()
        self.log.clear()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        self.log.append(
            Logged(request.command, request.path, dict(request.headers.items()), time.monotonic())
        )
        path = urlsplit(request.path).path
        handler = self.routes.get(path)
        try:
            if handler is not None:
                handler(request)
            else:
                self._serve_file(request, path)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout or a size cap): that is what the test wanted

    def _serve_file(self, request: BaseHTTPRequestHandler, path: str) -> None:
        target = (self.root / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self.root.resolve()) or not target.is_file():
            reply(request, 404, "not found", "text/plain")
            return
        data = target.read_bytes()
        etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
        modified = email.utils.formatdate(target.stat().st_mtime, usegmt=True)
        if request.headers.get("If-None-Match") == etag or (
            request.headers.get("If-Modified-Since") == modified
            and "If-None-Match" not in request.headers
        ):
            request.send_response(304)
            request.send_header("ETag", etag)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        # Files named *.gbk.html are GBK pages whose header does not say so (as many do):
        # the charset must come from the page's <meta> or from detection.
        if kind.startswith("text/") and ".gbk." not in target.name:
            kind += "; charset=utf-8"
        reply(request, 200, data, kind, {"ETag": etag, "Last-Modified": modified})
