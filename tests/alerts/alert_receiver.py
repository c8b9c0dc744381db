"""A local HTTP receiver that checks each robot's message exactly as the real service does.

Routes (POST only):
  /wecom/send?key=K              WeCom: {"msgtype": "markdown", "markdown": {"content"}}, ≤ 4096 B
  /dingtalk/robot/send?access_token=T[&timestamp&sign]
                                 DingTalk: markdown {title, text} ≤ 20000 B; sign checked
  /feishu/hook/<id>              Feishu: {timestamp, sign, msg_type: text, content: {text}}
  /webhook/<name>                generic: the Yuqing JSON fields, X-Yuqing-Signature checked
  /sms                           SMS gateway: {"phones", "text"}, signature checked

Secrets are registered per route (`secrets["dingtalk"] = "SEC…"`). A check that fails is
answered the way the service answers it (errcode, code, 401) and recorded as not ok; tests
can also queue failures (`fail("/webhook", 2, status=503)`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WEBHOOK_FIELDS = {
    "title",
    "body",
    "grade",
    "kind",
    "item_id",
    "event_id",
    "case_id",
    "url",
    "sent_at",
    "part",
    "parts",
}


@dataclass
class Received:
    """One request: its route, parsed JSON, whether every check passed, and why not."""

    route: str
    path: str
    headers: dict[str, str]
    raw: bytes
    data: Any
    ok: bool
    problem: str | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        """The message text, whatever the route."""
        data = self.data
        if self.route == "wecom":
            return str(data["markdown"]["content"])
        if self.route == "dingtalk":
            return str(data["markdown"]["text"])
        if self.route == "feishu":
            return str(data["content"]["text"])
        if self.route == "sms":
            return str(data["text"])
        return f"{data['title']}\n{data['body']}"


@dataclass
class _Failure:
    prefix: str
    remaining: int
    status: int
    body: dict[str, Any]


def _sign_dingtalk(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def _sign_feishu(secret: str, timestamp: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def _check_yuqing_signature(secret: str | None, headers: dict[str, str], raw: bytes) -> str | None:
    timestamp = headers.get("x-yuqing-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return "timestamp missing or stale"
    if secret is None:
        return None
    expected = (
        "sha256="
        + hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    )
    if not hmac.compare_digest(headers.get("x-yuqing-signature", ""), expected):
        return "signature mismatch"
    return None


class Receiver:
    """The server; `messages` are every request received, in order."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.secrets: dict[str, str] = {}
        self.sms_limit = 300
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.secrets.clear()
            self._failures.clear()
            self.sms_limit = 300

    def fail(
        self, prefix: str, times: int, *, status: int = 503, body: dict[str, Any] | None = None
    ) -> None:
        """Answer the next `times` requests under `prefix` with `status` and `body`."""
        with self._lock:
            self._failures.append(_Failure(prefix, times, status, body or {"error": "busy"}))

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Block until `count` messages arrived (for the benchmark and async tests)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            return list(self.messages)

    def ok(self, route: str | None = None) -> list[Received]:
        return [m for m in self.messages if m.ok and (route is None or m.route == route)]

    # ---------------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("content-length", "0"))
        raw = request.rfile.read(length)
        headers = {k.lower(): v for k, v in request.headers.items()}
        parts = urlsplit(request.path)
        route = parts.path.strip("/").split("/")[0]
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        status, answer, problem = self._check(route, parts.path, query, headers, data, raw)
        with self._lock:
            failure = next(
                (f for f in self._failures if parts.path.startswith(f.prefix) and f.remaining), None
            )
            if failure is not None and problem is None:
                failure.remaining -= 1
                status, answer, problem = (
                    failure.status,
                    failure.body,
                    f"made to fail ({failure.status})",
                )
        received = Received(route, request.path, headers, raw, data, problem is None, problem)
        # Recorded before answering: a sender that got its answer finds its message here.
        with self._arrived:
            self.messages.append(received)
            self._arrived.notify_all()
        body = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _check(
        self,
        route: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        data: Any,
        raw: bytes,
    ) -> tuple[int, dict[str, Any], str | None]:
        if not headers.get("content-type", "").startswith("application/json"):
            return 400, {"errcode": 40001, "errmsg": "content type"}, "not JSON content type"
        if not isinstance(data, dict):
            return 400, {"errcode": 40001, "errmsg": "invalid json"}, "body is not a JSON object"
        if route == "wecom":
            return self._wecom(query, data)
        if route == "dingtalk":
            return self._dingtalk(query, data)
        if route == "feishu":
            return self._feishu(data)
        if route == "webhook":
            return self._webhook(path, headers, data, raw)
        if route == "sms":
            return self._sms(headers, data, raw)
        return 404, {"error": "no such route"}, f"unknown route {route}"

    def _wecom(
        self, query: dict[str, str], data: dict[str, Any]
    ) -> tuple[int, dict[str, Any], str | None]:
        if not query.get("key"):
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, "no key"
        if set(data) != {"msgtype", "markdown"} or data["msgtype"] != "markdown":
            return (
                200,
                {"errcode": 40008, "errmsg": "invalid message type"},
                f"shape {sorted(data)}",
            )
        content = data["markdown"].get("content") if isinstance(data["markdown"], dict) else None
        if not isinstance(content, str) or not content:
            return 200, {"errcode": 41009, "errmsg": "missing content"}, "no content"
        if len(content.encode("utf-8")) > 4096:
            return 200, {"errcode": 40058, "errmsg": "content exceed max length 4096"}, "too long"
        return 200, {"errcode": 0, "errmsg": "ok"}, None

    def _dingtalk(
        self, query: dict[str, str], data: dict[str, Any]
    ) -> tuple[int, dict[str, Any], str | None]:
        if not query.get("access_token"):
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}, "no access_token"
        secret = self.secrets.get("dingtalk")
        if secret is not None:
            timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
            if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3600_000:
                return 200, {"errcode": 310000, "errmsg": "invalid timestamp"}, "timestamp"
            if not hmac.compare_digest(sign, _sign_dingtalk(secret, timestamp)):
                return 200, {"errcode": 310000, "errmsg": "sign not match"}, "sign not match"
        markdown = data.get("markdown")
        if data.get("msgtype") != "markdown" or not isinstance(markdown, dict):
            return 200, {"errcode": 40035, "errmsg": "msgtype"}, "shape"
        if not isinstance(markdown.get("title"), str) or not isinstance(markdown.get("text"), str):
            return 200, {"errcode": 40035, "errmsg": "missing title or text"}, "title/text"
        if len(markdown["text"].encode("utf-8")) > 20000:
            return 200, {"errcode": 460101, "errmsg": "message too long"}, "too long"
        return 200, {"errcode": 0, "errmsg": "ok"}, None

    def _feishu(self, data: dict[str, Any]) -> tuple[int, dict[str, Any], str | None]:
        secret = self.secrets.get("feishu")
        if secret is not None:
            timestamp, sign = data.get("timestamp"), data.get("sign")
            if (
                not isinstance(timestamp, str)
                or not timestamp.isdigit()
                or abs(time.time() - int(timestamp)) > 3600
            ):
                return (
                    200,
                    {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"},
                    "timestamp",
                )
            if not isinstance(sign, str) or not hmac.compare_digest(
                sign, _sign_feishu(secret, timestamp)
            ):
                return (
                    200,
                    {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"},
                    "sign",
                )
        content = data.get("content")
        if (
            data.get("msg_type") != "text"
            or not isinstance(content, dict)
            or not isinstance(content.get("text"), str)
        ):
            return 200, {"code": 9499, "msg": "Bad Request"}, "shape"
        if len(json.dumps(data).encode()) > 20000:
            return 200, {"code": 9499, "msg": "request too large"}, "too long"
        return 200, {"StatusCode": 0, "StatusMessage": "success", "code": 0, "msg": "success"}, None

    def _webhook(
        self, path: str, headers: dict[str, str], data: dict[str, Any], raw: bytes
    ) -> tuple[int, dict[str, Any], str | None]:
        problem = _check_yuqing_signature(self.secrets.get("webhook"), headers, raw)
        if problem is not None:
            return 401, {"error": problem}, problem
        if set(data) != WEBHOOK_FIELDS:
            return 400, {"error": "fields"}, f"fields {sorted(set(data) ^ WEBHOOK_FIELDS)}"
        return 200, {"received": True}, None

    def _sms(
        self, headers: dict[str, str], data: dict[str, Any], raw: bytes
    ) -> tuple[int, dict[str, Any], str | None]:
        problem = _check_yuqing_signature(self.secrets.get("sms"), headers, raw)
        if problem is not None:
            return 401, {"error": problem}, problem
        if set(data) != {"phones", "text"} or not data["phones"]:
            return 400, {"error": "fields"}, "shape"
        if len(data["text"]) > self.sms_limit:
            return 400, {"error": "text too long"}, "too long"
        return 200, {"sent": len(data["phones"])}, None
