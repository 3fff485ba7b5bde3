"""A tiny notes service that ships with Interlock, so that a suite made by ``interlock init``
has a real system to test before it points at its own services. Standard library only.

    python -m interlock.example_service --port 8000

    POST /notes {"text": "buy milk"}   -> 201 {"id": "<uuid>", "text": ..., "createdAt": ...}
                                          (Location: /notes/<id>); 422 without a text
    GET  /notes/<id>                   -> 200 the note, or 404
    GET  /notes                        -> 200 {"notes": [...]}
    GET  /health                       -> 200 {"status": "ok"}
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Notes:
    """The service's memory: notes by id (one process, so a lock is enough)."""

    def __init__(self) -> None:
        self._notes: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def add(self, text: str) -> dict[str, Any]:
        note = {"id": str(uuid.uuid4()), "text": text,
                "createdAt": datetime.now(UTC).isoformat(timespec="seconds")}
        with self._lock:
            self._notes[note["id"]] = note
        return note

    def get(self, note_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._notes.get(note_id)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._notes.values())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    notes = Notes()

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        if self.path == "/health":
            return self._json(200, {"status": "ok"})
        if self.path == "/notes":
            return self._json(200, {"notes": self.notes.all()})
        if self.path.startswith("/notes/"):
            note = self.notes.get(self.path.removeprefix("/notes/"))
            if note is None:
                return self._json(404, {"error": "no such note"})
            return self._json(200, note)
        return self._json(404, {"error": f"no route {self.path}"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if self.path != "/notes":
            self.rfile.read(length)
            return self._json(404, {"error": f"no route {self.path}"})
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self._json(400, {"error": "the body is not JSON"})
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            return self._json(422, {"error": "a note needs a text"})
        note = self.notes.add(text)
        return self._json(201, note, {"Location": f"/notes/{note['id']}"})

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        print(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Run the notes service on ``--port`` of 127.0.0.1 until it is stopped."""
    parser = argparse.ArgumentParser(prog="python -m interlock.example_service",
                                     description="Interlock's example notes service")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _Handler)
    print(f"notes service listening on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
