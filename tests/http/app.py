"""A small real HTTP server for the http and auth tests (and the benchmark).

It listens on a free 127.0.0.1 port in a background thread, speaks HTTP/1.1 with keep-alive,
and offers: an echo, JSON and non-JSON answers, a slow endpoint, a login endpoint (JSON and
form), an OAuth2 token endpoint (password and client_credentials grants) and ``/me``, which
checks HS256/RS256 bearer tokens or basic auth and says what it saw.

Example:
    >>> with LocalApp() as app:  # doctest: +SKIP
    ...     requests.get(app.url + "/orders/1").json()["status"]
    'pending'
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass
class Keys:
    """The keys the app signs and checks tokens with."""

    hs_secret: str = field(default_factory=lambda: "hs-" + uuid.uuid4().hex)
    rsa_private_pem: bytes = b""
    rsa_public_pem: bytes = b""

    @classmethod
    def generate(cls) -> Keys:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(
            rsa_private_pem=private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            rsa_public_pem=private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )


@dataclass
class Account:
    password: str
    role: str = "customer"


class LocalApp:
    """The test server. ``url`` is its base URL; ``hits`` counts requests per path."""

    def __init__(
        self,
        *,
        keys: Keys | None = None,
        accounts: Mapping[str, Account] | None = None,
        clients: Mapping[str, str] | None = None,
        token_ttl: int = 3600,
    ) -> None:
        self.keys = keys or Keys()
        self.accounts = dict(accounts or {})
        self.clients = dict(clients or {})  # OAuth2 client_id -> client_secret
        self.token_ttl = token_ttl
        self.hits: Counter[str] = Counter()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.app = self
        # A short poll interval makes stop() quick (shutdown waits for the poll to notice).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    @property
    def connections_accepted(self) -> int:
        """How many TCP connections the server has accepted."""
        return self._server.accepted

    @property
    def open_connections(self) -> int:
        """How many TCP connections are open now."""
        with self._server.connections_lock:
            return len(self._server.open_connections)

    def drop_connections(self) -> None:
        """Close every kept-alive connection from the server's side (a restart, a timeout)."""
        self._server.close_connections()

    def start(self) -> LocalApp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> LocalApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def issue_token(self, claims: Mapping[str, Any]) -> str:
        now = int(time.time())
        return jwt.encode(
            {"iat": now, "exp": now + self.token_ttl, **claims},
            self.keys.hs_secret,
            algorithm="HS256",
        )

    def record(self, path: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self.hits[path] += 1
            self.requests.append(entry)


def free_port() -> int:
    """A port nothing listens on (for "connection refused")."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    app: LocalApp

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.open_connections: set[socket.socket] = set()
        self.accepted = 0  # connections accepted, ever (keep-alive tests count them)
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.open_connections.add(request)
            self.accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        # Keep-alive handlers wait for the next request; waking them lets server_close join.
        with self.connections_lock:
            for conn in list(self.open_connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (40 ms a request on Linux).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: pytest output is for the tests

    def do_GET(self) -> None:
        self._route()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def do_HEAD(self) -> None:
        self._route(head=True)

    def _route(self, head: bool = False) -> None:
        self._head = head
        parts = urlsplit(self.path)
        path, query = parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        app = self.server.app
        app.record(path, {"method": self.command, "path": path, "headers": dict(self.headers)})
        if path == "/echo":
            return self._echo(path, query, body)
        if path.startswith("/orders/"):
            return self._json(200, _order(path.rsplit("/", 1)[1]))
        if path == "/orders" and self.command == "POST":
            order = {**_order(str(uuid.uuid4())), **json.loads(body or b"{}")}
            return self._json(201, order, {"Location": f"/orders/{order['id']}"})
        if path == "/text":
            return self._send(200, b"order is pending", "text/plain; charset=utf-8")
        if path == "/html-error":
            page = b"<html><body><h1>Internal Server Error</h1>database down</body></html>"
            return self._send(500, page, "text/html")
        if path == "/binary":
            return self._send(200, bytes(range(256)), "application/octet-stream")
        if path == "/slow":
            time.sleep(float(query.get("ms", "100")) / 1000)  # the server is slow on purpose
            return self._json(200, {"slept_ms": float(query.get("ms", "100"))})
        if path.startswith("/status/"):
            return self._json(int(path.rsplit("/", 1)[1]), {"error": "as you asked"})
        if path == "/redirect":
            return self._json(302, {}, {"Location": "/orders/1"})
        if path == "/cookie":
            return self._json(200, {"ok": True}, {"Set-Cookie": f"session={query['value']}"})
        if path == "/auth/login":
            return self._login(body)
        if path == "/oauth/token":
            return self._oauth(body)
        if path == "/me":
            return self._me()
        return self._json(404, {"error": f"no route {path}"})

    def _echo(self, path: str, query: dict[str, str], body: bytes) -> None:
        text = body.decode("utf-8", errors="replace")
        content_type = self.headers.get("Content-Type", "")
        parsed: Any = None
        if "json" in content_type:
            parsed = json.loads(text)
        form = dict(parse_qsl(text)) if "form-urlencoded" in content_type else None
        self._json(
            200,
            {
                "method": self.command,
                "path": path,
                "query": query,
                "headers": dict(self.headers),
                "body": text,
                "json": parsed,
                "form": form,
            },
        )

    def _fields(self, body: bytes) -> dict[str, str]:
        if "json" in self.headers.get("Content-Type", ""):
            return {k: str(v) for k, v in json.loads(body).items()}
        return dict(parse_qsl(body.decode()))

    def _login(self, body: bytes) -> None:
        app = self.server.app
        fields = self._fields(body)
        account = app.accounts.get(fields.get("username", ""))
        if account is None or account.password != fields.get("password"):
            # Echoes what it got, like careless services do: the report must still hide it.
            return self._json(401, {"error": "bad credentials", "got": fields})
        token = app.issue_token({"sub": fields["username"], "role": account.role})
        self._json(200, {"access_token": token, "token_type": "Bearer"})

    def _oauth(self, body: bytes) -> None:
        app = self.server.app
        fields = dict(parse_qsl(body.decode()))
        client_id, client_secret = fields.get("client_id"), fields.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id not in app.clients or app.clients[client_id] != (client_secret or ""):
            return self._json(401, {"error": "invalid_client"})
        grant = fields.get("grant_type")
        claims: dict[str, Any] = {"client_id": client_id, "scope": fields.get("scope", "")}
        if grant == "client_credentials":
            claims["sub"] = client_id
        elif grant == "password":
            account = app.accounts.get(fields.get("username", ""))
            if account is None or account.password != fields.get("password"):
                return self._json(400, {"error": "invalid_grant"})
            claims.update(sub=fields["username"], role=account.role)
        else:
            return self._json(400, {"error": "unsupported_grant_type"})
        token = app.issue_token(claims)
        self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    def _me(self) -> None:
        app = self.server.app
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            account = app.accounts.get(user)
            if account is None or account.password != password:
                return self._json(401, {"error": "bad basic credentials"})
            return self._json(200, {"user": user, "scheme": "basic"})
        if not auth.startswith("Bearer "):
            return self._json(401, {"error": "no credentials"})
        token = auth[7:]
        try:
            algorithm = jwt.get_unverified_header(token)["alg"]
            key: Any = app.keys.hs_secret if algorithm.startswith("HS") else app.keys.rsa_public_pem
            claims = jwt.decode(token, key, algorithms=[algorithm])
        except jwt.ExpiredSignatureError:
            return self._json(401, {"error": "token expired"})
        except jwt.InvalidSignatureError:
            return self._json(401, {"error": "invalid signature"})
        except jwt.PyJWTError as err:
            return self._json(401, {"error": f"invalid token: {err}"})
        self._json(200, {"claims": claims, "algorithm": algorithm, "scheme": "bearer"})

    def _json(self, status: int, document: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, json.dumps(document).encode(), "application/json", headers)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not self._head:
            self.wfile.write(body)


def _order(order_id: str) -> dict[str, Any]:
    return {
        "id": order_id,
        "status": "pending",
        "customerId": "c-1",
        "items": [{"productId": "p-1", "quantity": 2}],
        "createdAt": "2024-05-01T10:00:00Z",
    }


def main() -> None:
    """Serve in this process until standard input closes (the benchmark runs it apart from
    the client, so the two do not share one interpreter lock)."""
    import sys

    with LocalApp() as app:
        print(app.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
