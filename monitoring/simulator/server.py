"""A loopback HTTP server playing every simulated platform, with a clock and injectable faults."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import select
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from monitoring.simulator import wire
from monitoring.simulator.api import PREFIXES, Api, Page, Response, to_json
from monitoring.simulator.world import SIMULATED_PLATFORMS, World
from monitoring.simulator.writes import MAX_BODY_BYTES, MODERATED_SUBREDDITS, Writes

logger = logging.getLogger("monitoring.simulator")

FAULT_KINDS = (
    "429",
    "500",
    "timeout",
    "malformed_json",
    "malformed_item",
    "duplicate",
    "out_of_order",
    # A write is performed and recorded, then the connection closes without any answer.
    "accept-then-drop",
)
# Faults decided before the platform answers, and faults that alter a successful answer.
_REQUEST_FAULTS = ("429", "500", "timeout")
_ITEM_FAULTS = ("malformed_item", "duplicate", "out_of_order")


class SimClock:
    """Simulated time: runs at `speed` simulated seconds per real second, or stands still."""

    def __init__(self, start: datetime, *, speed: float = 60.0, fixed: datetime | None = None):
        self._lock = threading.Lock()
        self._initial = (fixed or start, 0.0 if fixed is not None else speed)
        self._anchor, self.speed = self._initial
        self._anchor_real = time.monotonic()

    def now(self) -> datetime:
        with self._lock:
            elapsed = time.monotonic() - self._anchor_real
            return self._anchor + timedelta(seconds=elapsed * self.speed)

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._anchor, self._anchor_real = moment, time.monotonic()

    def set_speed(self, speed: float) -> None:
        current = self.now()
        with self._lock:
            self._anchor, self._anchor_real, self.speed = current, time.monotonic(), speed

    def restart(self) -> None:
        """Back to the initial moment and speed (the running clock starts counting now)."""
        with self._lock:
            self._anchor, self.speed = self._initial
            self._anchor_real = time.monotonic()


class Deliveries:
    """Which posts went out intact, for /_control/served; used under the server's lock.

    A post counts from the moment an answer carrying it starts being written (so a client
    that reads /_control/served right after its answer already sees it) and stays counted
    once one such answer was written whole. An answer whose write fails (the client went
    away) withdraws only its own claim: another answer that delivered the same post at the
    same time keeps it served.
    """

    def __init__(self) -> None:
        self._written: set[tuple[str, str]] = set()
        self._writing: Counter[tuple[str, str]] = Counter()

    def begin(self, keys: set[tuple[str, str]]) -> None:
        self._writing.update(keys)

    def finish(self, keys: set[tuple[str, str]], *, written: bool) -> None:
        self._writing.subtract(keys)
        self._writing = +self._writing  # drop the posts no answer is writing any more
        if written:
            self._written |= keys

    def keys(self) -> set[tuple[str, str]]:
        return self._written | set(self._writing)

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._written or self._writing[key] > 0

    def clear(self) -> None:
        self._written.clear()
        self._writing.clear()


@dataclass
class Fault:
    id: int
    platform: str  # a platform value, or "*"
    kind: str
    count: int | None = None  # the next `count` matching requests…
    probability: float | None = None  # …or each matching request with this probability
    retry_after: float = 2.0
    delay: float = 30.0
    hits: int = 0

    def applies_to(self, platform: str) -> bool:
        return self.platform in ("*", platform) and (self.count is None or self.count > 0)


class SimulatorServer:
    """Serves a World over HTTP on loopback under /mastodon, /bluesky, /reddit, /youtube, /feeds."""

    def __init__(
        self,
        world: World,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        speed: float = 60.0,
        clock: datetime | None = None,
        youtube_api_keys: Collection[str] | None = None,
        fault_seed: int = 0,
        write_accounts: Mapping[str, Mapping[str, str]] | None = None,
        moderated_subreddits: Collection[str] = MODERATED_SUBREDDITS,
    ) -> None:
        """``write_accounts`` maps a platform to ``{secret: handle}`` (access tokens; Bluesky
        app passwords); a platform left out accepts any well-shaped secret as the brand's
        account (see ``writes.BRAND_HANDLES``)."""
        self.world = world
        self.host = host
        self.port = port
        self.clock = SimClock(world.start, speed=speed, fixed=clock)
        self.api = Api(
            world, youtube_api_keys=frozenset(youtube_api_keys) if youtube_api_keys else None
        )
        self.writes = Writes(
            world, write_accounts, moderated_subreddits=tuple(moderated_subreddits)
        )
        self._lock = threading.Lock()
        self._fault_seed = fault_seed
        self._random = random.Random(fault_seed)  # noqa: S311 - fault injection, not security
        self._faults: list[Fault] = []
        self._next_fault_id = 1
        self._served = Deliveries()
        self._requests: Counter[str] = Counter()
        self._recent: deque[dict[str, Any]] = deque(maxlen=50)
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --
    def start(self) -> str:
        """Listen and serve in a daemon thread; returns the base URL."""
        handler = type("SimulatorHandler", (_Handler,), {"simulator": self})
        self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._stopping.clear()
        self.clock.restart()  # a running clock starts at the world's start now, not at __init__
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # so stop() returns promptly
            name="platform-simulator",
            daemon=True,
        )
        self._thread.start()
        logger.info("platform simulator listening on %s", self.base_url)
        return self.base_url

    def stop(self) -> None:
        self._stopping.set()  # wakes requests sleeping in a timeout fault
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> SimulatorServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, platform: str) -> str:
        """The root of one simulated platform (a Platform value or a prefix name)."""
        prefix = next((p for p, value in PREFIXES.items() if platform in (p, value)), None)
        if prefix is None:
            raise ValueError(f"no simulated platform {platform!r}")
        return f"{self.base_url}/{prefix}"

    # -- control (also reachable over HTTP under /_control) --
    def now(self) -> datetime:
        return self.clock.now()

    def set_clock(self, moment: datetime) -> None:
        self.clock.set(moment if moment.tzinfo else moment.replace(tzinfo=UTC))

    def advance(self, minutes: float) -> None:
        self.clock.set(self.clock.now() + timedelta(minutes=minutes))

    def add_fault(
        self,
        kind: str,
        platform: str = "*",
        *,
        count: int | None = None,
        probability: float | None = None,
        retry_after: float = 2.0,
        delay: float = 30.0,
    ) -> Fault:
        kind = kind.replace("_", "-") if kind == "accept_then_drop" else kind
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        platform = PREFIXES.get(platform, platform)
        if platform != "*" and platform not in SIMULATED_PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}")
        if count is None and probability is None:
            count = 1
        if probability is not None and not 0 <= probability <= 1:
            raise ValueError("probability must be between 0 and 1")
        with self._lock:
            fault = Fault(
                self._next_fault_id, platform, kind, count, probability, retry_after, delay
            )
            self._next_fault_id += 1
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def served(self) -> set[tuple[str, str]]:
        """(platform, external_id) of every item delivered intact in a successful response."""
        with self._lock:
            return self._served.keys()

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._served.clear()
            self._requests.clear()
            self._recent.clear()
            self._random = random.Random(self._fault_seed)  # noqa: S311
        self.writes.reset()
        self.clock.restart()

    def state(self) -> dict[str, Any]:
        now = self.now()
        visible = Counter(post.platform for post in self.world.visible_at(now))
        window = self.world.surge_window()
        with self._lock:
            return {
                "now": now.isoformat(),
                "speed": self.clock.speed,
                "world": {
                    "seed": self.world.seed,
                    "start": self.world.start.isoformat(),
                    "end": self.world.end.isoformat(),
                    "posts": len(self.world),
                    "crisis_at": self.world.crisis_at.isoformat() if self.world.crisis_at else None,
                    "surge_window": [moment.isoformat() for moment in window] if window else None,
                    "youtube_channel_id": self.world.channel_id,
                    "youtube_video_ids": [video.video_id for video in self.world.videos],
                },
                "visible": {platform: visible.get(platform, 0) for platform in SIMULATED_PLATFORMS},
                "prefixes": {value: self.url(prefix) for prefix, value in PREFIXES.items()},
                "faults": [asdict(fault) for fault in self._faults],
                "requests": dict(self._requests),
                "served": len(self._served.keys()),
                "recent_requests": list(self._recent),
                "writes": self.writes.summary(),
            }

    # -- serving --
    def _take_fault(
        self, platform: str, kinds: tuple[str, ...], page: Page | None = None
    ) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or not fault.applies_to(platform):
                    continue
                # Item faults need items to act on; keep them for a page that has some.
                if fault.kind in _ITEM_FAULTS and (page is None or not page.items):
                    continue
                # A post once delivered intact stays intact (a broken post is broken from
                # the start): keep the fault for a page with a post not served yet.
                if fault.kind == "malformed_item" and not self._spoilable(page):
                    continue
                if fault.kind == "out_of_order" and page is not None and len(page.items) < 2:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                elif self._random.random() >= (fault.probability or 0):
                    continue
                fault.hits += 1
                return fault
        return None

    def _spoilable(self, page: Page | None) -> list[int]:
        """Items of `page` whose own post was never delivered intact (call under the lock).

        A client that lost an answer (it timed out after the answer was written, or died
        before committing it) asks again and must find the same posts whole; corrupting one
        of them then would lose a post the simulator counts as served.
        """
        if page is None:
            return []
        return [
            index
            for index, posts in enumerate(page.carried)
            if posts and (posts[0].platform, posts[0].external_id) not in self._served
        ]

    def _record(self, platform: str, path: str, status: int, fault: Fault | None) -> None:
        logger.debug(
            "%s %s -> %s%s",
            platform,
            path,
            status or "no answer",
            f" (fault {fault.kind})" if fault else "",
        )
        with self._lock:
            self._requests[platform] += 1
            self._recent.append(
                {
                    "platform": platform,
                    "path": path,
                    "status": status,
                    "fault": fault.kind if fault else None,
                }
            )

    def _serve_platform(self, handler: _Handler, platform: str, path: str, query: str) -> None:
        fault = self._take_fault(platform, _REQUEST_FAULTS)
        if fault is not None and fault.kind == "429":
            handler.reply(429, *_rate_limited(platform, fault.retry_after))
            self._record(platform, path, 429, fault)
            return
        if fault is not None and fault.kind == "500":
            handler.reply(500, _SERVER_ERROR_PAGE, "text/html; charset=utf-8", {})
            self._record(platform, path, 500, fault)
            return
        waited_out = (
            fault is not None
            and fault.kind == "timeout"
            and (self._stopping.wait(fault.delay) or handler.client_gone())
        )
        if waited_out:
            # The client has given up (or we are shutting down): nobody to answer.
            handler.close_connection = True
            self._record(platform, path, 0, fault)
            return
        params = parse_qs(query, keep_blank_values=True)
        ctx = wire.Context(self.world, self.now(), self.base_url)
        response = self.writes.read(platform, path, params, handler.headers, ctx)
        if response is None:
            response = self.api.handle(platform, path, params, handler.headers, ctx)
        delivered = list(response.delivered)
        body = response.body
        if response.page is not None:
            body, delivered = self._render_page(platform, response, fault)
        if response.status == 200:
            body_fault = self._take_fault(platform, ("malformed_json",))
            if body_fault is not None:
                fault = body_fault
                # Cut the body short: never valid JSON (or XML), and nothing was delivered.
                body, delivered = body[: max(1, len(body) // 2)], []
        keys = set()
        if 200 <= response.status < 300:
            keys = {(post.platform, post.external_id) for post in delivered}
        with self._lock:
            self._served.begin(keys)
        written = handler.reply(response.status, body, response.content_type, response.headers)
        with self._lock:
            self._served.finish(keys, written=written)
        self._record(platform, path, response.status, fault)

    def _serve_write(
        self, handler: _Handler, method: str, platform: str, path: str, query: str
    ) -> None:
        """A POST, PUT or DELETE: request faults first (nothing written), then the write; an
        accept-then-drop fault closes the connection after a write without answering."""
        where = f"{method} {path}"
        # The body is read first: left unread on a kept-alive connection, it would be taken
        # for the next request.
        body = handler.read_body()
        if body is None:
            handler.reply_json(413, {"error": f"body larger than {MAX_BODY_BYTES} bytes"})
            self._record(platform, where, 413, None)
            return
        fault = self._take_fault(platform, _REQUEST_FAULTS)
        if fault is not None and fault.kind == "429":
            handler.reply(429, *_rate_limited(platform, fault.retry_after))
            self._record(platform, where, 429, fault)
            return
        if fault is not None and fault.kind == "500":
            handler.reply(500, _SERVER_ERROR_PAGE, "text/html; charset=utf-8", {})
            self._record(platform, where, 500, fault)
            return
        waited_out = (
            fault is not None
            and fault.kind == "timeout"
            and (self._stopping.wait(fault.delay) or handler.client_gone())
        )
        if waited_out:
            # The client gave up before anything was written: nothing is done.
            handler.close_connection = True
            self._record(platform, where, 0, fault)
            return
        params = parse_qs(query, keep_blank_values=True)
        ctx = wire.Context(self.world, self.now(), self.base_url)
        outcome = self.writes.handle(platform, method, path, params, handler.headers, body, ctx)
        response = outcome.response
        if outcome.record is not None and 200 <= response.status < 300:
            drop = self._take_fault(platform, ("accept-then-drop",))
            if drop is not None:
                self.writes.mark_dropped(outcome.record)
                handler.drop()
                self._record(platform, where, 0, drop)
                return
        handler.reply(response.status, response.body, response.content_type, response.headers)
        self._record(platform, where, response.status, fault)

    def _render_page(
        self, platform: str, response: Response, fault: Fault | None
    ) -> tuple[bytes, list]:
        page = response.page
        assert page is not None  # noqa: S101 - checked by the caller
        items, carried = list(page.items), [list(posts) for posts in page.carried]
        item_fault = self._take_fault(platform, _ITEM_FAULTS, page)
        if item_fault is not None:
            with self._lock:
                rng = random.Random(self._random.random())  # noqa: S311
                spoilable = self._spoilable(page)
            if item_fault.kind == "malformed_item":
                # Another answer may have delivered the last spoilable post meanwhile.
                if spoilable:
                    # Prefer an item that carries only itself (a YouTube thread without
                    # replies), so exactly one post goes missing.
                    singles = [index for index in spoilable if len(carried[index]) == 1]
                    index = rng.choice(singles or spoilable)
                    items[index] = wire.corrupt(platform, items[index])
                    carried[index] = carried[index][1:]
            elif item_fault.kind == "duplicate":
                for index in sorted(
                    rng.sample(range(len(items)), min(len(items), 3)), reverse=True
                ):
                    items.insert(index + 1, items[index])
            else:
                original = list(items)
                while items == original:
                    rng.shuffle(items)
        delivered = [post for posts in carried for post in posts]
        return page.render(items), delivered

    def _serve_control(self, handler: _Handler, method: str, path: str) -> None:
        try:
            payload = handler.read_json() if method == "POST" else {}
        except ValueError as error:
            handler.reply_json(400, {"error": str(error)})
            return
        try:
            if path == "/_control/state" and method == "GET":
                handler.reply_json(200, self.state())
            elif path == "/_control/clock" and method == "POST":
                self._control_clock(payload)
                handler.reply_json(200, {"now": self.now().isoformat(), "speed": self.clock.speed})
            elif path == "/_control/faults" and method == "POST":
                fault = self.add_fault(
                    str(payload.get("kind", "")),
                    str(payload.get("platform", "*")),
                    count=_optional(payload, "count", int),
                    probability=_optional(payload, "probability", float),
                    retry_after=float(payload.get("retry_after", 2)),
                    delay=float(payload.get("delay", 30)),
                )
                handler.reply_json(201, asdict(fault))
            elif path == "/_control/faults" and method == "GET":
                with self._lock:
                    handler.reply_json(200, {"faults": [asdict(f) for f in self._faults]})
            elif path == "/_control/faults" and method == "DELETE":
                self.clear_faults()
                handler.reply_json(200, {"faults": []})
            elif path == "/_control/served" and method == "GET":
                handler.reply_json(200, {"items": sorted([list(item) for item in self.served()])})
            elif path == "/_control/writes" and method == "GET":
                query = parse_qs(urlsplit(handler.path).query)
                platform = (query.get("platform") or [None])[0]
                platform = PREFIXES.get(platform, platform) if platform else None
                action = (query.get("action") or [None])[0]
                handler.reply_json(
                    200,
                    {
                        "writes": self.writes.log(platform, action),
                        "replies": self.writes.replies(platform),
                        "moderation": self.writes.moderation(platform),
                    },
                )
            elif path == "/_control/writes" and method == "DELETE":
                self.writes.reset()
                handler.reply_json(200, {"writes": []})
            elif path == "/_control/moderation" and method == "GET":
                handler.reply_json(200, {"posts": self.writes.moderation()})
            elif path == "/_control/reset" and method == "POST":
                self.reset()
                handler.reply_json(200, {"now": self.now().isoformat()})
            else:
                handler.reply_json(404, {"error": f"no control endpoint {method} {path}"})
        except (TypeError, ValueError) as error:
            handler.reply_json(400, {"error": str(error)})

    def _control_clock(self, payload: dict[str, Any]) -> None:
        if "at" in payload:
            self.set_clock(datetime.fromisoformat(str(payload["at"]).replace("Z", "+00:00")))
        if "advance_minutes" in payload:
            self.advance(float(payload["advance_minutes"]))
        if payload.get("end"):
            self.set_clock(self.world.end)
        if "speed" in payload:
            self.clock.set_speed(float(payload["speed"]))
        if not {"at", "advance_minutes", "end", "speed"} & payload.keys():
            raise ValueError('expected "at", "advance_minutes", "end" or "speed"')

    def _dispatch(self, handler: _Handler, method: str) -> None:
        url = urlsplit(handler.path)
        path = url.path
        if path.startswith("/_control/"):
            self._serve_control(handler, method, path)
            return
        prefix, _, rest = path.lstrip("/").partition("/")
        platform = PREFIXES.get(prefix)
        if platform is not None and method in ("POST", "PUT", "DELETE"):
            self._serve_write(handler, method, platform, "/" + rest, url.query)
            return
        if platform is None or method != "GET":
            if path in ("", "/") and method == "GET":
                handler.reply_json(200, {"name": "Calma platform simulator", **self.state()})
                return
            handler.reply_json(404, {"error": f"nothing at {method} {path}"})
            return
        self._serve_platform(handler, platform, "/" + rest, url.query)


def _optional(payload: dict[str, Any], name: str, kind: type) -> Any:
    value = payload.get(name)
    return None if value is None else kind(value)


_SERVER_ERROR_PAGE = (
    b"<html><head><title>500 Internal Server Error</title></head><body>"
    b"<h1>Internal Server Error</h1><p>Something went wrong on our side.</p></body></html>"
)


def _rate_limited(platform: str, retry_after: float) -> tuple[bytes, str, dict[str, str]]:
    """A 429 as each platform sends it: body, content type and rate-limit headers."""
    reset_at = datetime.now(UTC) + timedelta(seconds=retry_after)  # real time: clients wait
    seconds = f"{retry_after:g}"
    headers = {
        "Retry-After": seconds,
        "X-RateLimit-Limit": "300",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": seconds,
    }
    if platform == "mastodon":
        headers["X-RateLimit-Reset"] = reset_at.isoformat(timespec="milliseconds").replace(
            "+00:00", "Z"
        )
        body: Any = {"error": "Too many requests"}
    elif platform == "bluesky":
        headers.update(
            {
                "RateLimit-Limit": "3000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(int(reset_at.timestamp())),
                "RateLimit-Policy": "3000;w=300",
            }
        )
        body = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    elif platform == "reddit":
        headers.update(
            {"x-ratelimit-used": "100", "x-ratelimit-remaining": "0", "x-ratelimit-reset": seconds}
        )
        body = {"message": "Too Many Requests", "error": 429}
    elif platform == "youtube":
        body = wire.google_error(
            429,
            "Resource has been exhausted (e.g. check quota).",
            "rateLimitExceeded",
            "RESOURCE_EXHAUSTED",
        )
    else:
        html = b"<html><body><h1>429 Too Many Requests</h1></body></html>"
        return html, "text/html; charset=utf-8", headers
    return to_json(body), "application/json; charset=utf-8", headers


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs behind a pooled session
    server_version = "CalmaSimulator/1.0"
    timeout = 60  # close idle keep-alive connections
    simulator: SimulatorServer

    def do_GET(self) -> None:
        self.simulator._dispatch(self, "GET")

    def do_POST(self) -> None:
        self.simulator._dispatch(self, "POST")

    def do_DELETE(self) -> None:
        self.simulator._dispatch(self, "DELETE")

    def do_PUT(self) -> None:
        self.simulator._dispatch(self, "PUT")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def read_json(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ValueError(f"body is not JSON: {error}") from error
        if not isinstance(value, dict):
            raise ValueError("body must be a JSON object")
        return value

    def read_body(self) -> bytes | None:
        """The request body (Content-Length only); None when larger than MAX_BODY_BYTES."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body would be taken for a request
            return None
        return self.rfile.read(length) if length > 0 else b""

    def drop(self) -> None:
        """Close the connection without a word (the write was already done)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def reply_json(self, status: int, value: Any) -> None:
        self.reply(status, to_json(value), "application/json; charset=utf-8", {})

    def reply(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> bool:
        """Send a response; False when the client went away before it was written."""
        try:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:  # broken pipe, reset, aborted, timed out: the client did not get it
            self.close_connection = True
            return False
        return True

    def client_gone(self) -> bool:
        """Whether the client closed its side (it gave up waiting)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True
