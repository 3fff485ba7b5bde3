"""Building a service's image from its context, with the build log kept and shown on failure.

A build is skipped when an image made from exactly the same context already exists: every
image Interlock builds carries the label ``interlock.context=<digest>`` of its context (the
files Docker would be sent, the Dockerfile, the build arguments and the ids of the ``FROM``
images), so an unchanged service starts without sending its context to the engine again.

Example (needs an engine, so not run as a doctest):

    image_id = build_image(client, "orders", Path("demo/orders"), "Dockerfile",
                           build_args={"BASE_IMAGE": "interlock/python-base:bookworm"},
                           log_dir=Path(".interlock/runs/r1"), network="none")
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any

from docker.errors import APIError, ImageNotFound
from docker.utils.build import exclude_paths

from interlock._core.errors import InterlockError
from interlock.stack.backends.docker.sweep import LABEL_SERVICE

BUILD_TAIL_LINES = 40
LABEL_CONTEXT = "interlock.context"
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", re.I | re.M)
_ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?", re.I | re.M)
_REGISTRY_TROUBLE = re.compile(
    r"registry|pull access denied|manifest (?:for .* )?(?:not found|unknown)|no such host", re.I)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_.-]+", "-", text.lower()).strip("-.") or "x"


def build_image(
    client: Any,
    name: str,
    context: Path,
    dockerfile: str = "Dockerfile",
    *,
    build_args: Mapping[str, str] | None = None,
    stack: str = "default",
    log_dir: Path | None = None,
    progress: Callable[[str], None] = lambda line: None,
    network: str | None = None,
    once: BuildCache | None = None,
    target: str = "",
) -> str:
    """Build ``context`` and return the image id; the output goes to ``<name>.build.log``.

    ``network="none"`` makes sure the build needs nothing from outside. A failed build
    raises an InterlockError with the last build lines and the log file's path. With
    ``once``, callers that ask for the same context at the same time share one build.
    """
    build_args = build_args or {}
    where = f'service "{name}"'
    if not context.is_dir():
        raise InterlockError(
            f'Build context of service "{name}" is not a folder: {context}',
            where=where,
            hint="build: is a folder (relative to the stack file) with a Dockerfile",
        )
    if not (context / dockerfile).is_file():
        raise InterlockError(
            f'No {dockerfile} in the build context of service "{name}": {context}',
            where=where, hint="Add the Dockerfile, or name it with dockerfile:",
        )
    tag = f"interlock/{_slug(stack)}-{_slug(name)}:latest"
    digest = context_digest(client, context, dockerfile, build_args, target)

    def build() -> str:
        if digest:
            built = client.images.list(filters={"label": f"{LABEL_CONTEXT}={digest}"})
            if built:
                built[0].tag(tag)
                progress(f"interlock: {name}: image of {context} is up to date")
                return str(built[0].id)
        return _build(client, name, context, dockerfile, build_args, tag, digest, log_dir,
                      progress, network, target)

    return (once or BuildCache()).get(digest or object(), build)


def _build(
    client: Any, name: str, context: Path, dockerfile: str, build_args: Mapping[str, str],
    tag: str, digest: str, log_dir: Path | None, progress: Callable[[str], None],
    network: str | None, target: str = "",
) -> str:
    progress(f"interlock: {name}: building {context} ({dockerfile})")
    log_file = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC  # 0600: only this user reads logs
        log_file = open(  # noqa: SIM115 - closed in the finally below, as before
            os.open(log_dir / f"{name}.build.log", flags, 0o600), "w", encoding="utf-8")
    tail: deque[str] = deque(maxlen=BUILD_TAIL_LINES)
    image_id = ""
    error = ""
    try:
        for chunk in client.api.build(
            path=str(context), dockerfile=dockerfile, tag=tag, buildargs=dict(build_args),
            rm=True, forcerm=True, decode=True, network_mode=network, target=target or None,
            # no run label: images outlive runs, as a build cache
            labels={LABEL_SERVICE: name, **({LABEL_CONTEXT: digest} if digest else {})},
        ):
            text = str(chunk.get("stream") or chunk.get("status") or "")
            if "error" in chunk:
                error = str(chunk["error"])
                text += error + "\n"
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = str(chunk["aux"]["ID"])
            if text:
                tail.extend(text.rstrip("\n").splitlines())
                if log_file:
                    log_file.write(text)
    except APIError as err:
        error = str(err.explanation or err)
        tail.append(error)
    finally:
        if log_file:
            log_file.close()
    if error or not image_id:
        log = str(log_dir / f"{name}.build.log") if log_dir else "above"
        missing = [image for image in from_images(context / dockerfile, build_args)
                   if not _has_image(client, image)]
        if missing and _REGISTRY_TROUBLE.search(error):
            hint = (f"The base image {missing[0]} is not on this machine and could not be "
                    "pulled. Pull or build it, or pass another one as a build argument "
                    "(build_args: in the docker: block); the full build log is " + log)
        else:
            hint = "Fix the Dockerfile; the full build log is " + log
        raise InterlockError(
            f'Building the image of service "{name}" failed: {error or "no image"}',
            details="last build lines:\n" + "\n".join("| " + line for line in tail),
            where=f"{context / dockerfile}", hint=hint,
        )
    return image_id


def from_images(dockerfile: Path, build_args: Mapping[str, str]) -> list[str]:
    """The images a Dockerfile builds ``FROM`` (not its own stages), arguments filled in.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "Dockerfile"
        >>> _ = path.write_text("ARG BASE=python:3.11-slim\\nFROM ${BASE} AS build\\n"
        ...                     "FROM build\\nFROM $BASE\\n")
        >>> from_images(path, {}), from_images(path, {"BASE": "my/python"})
        (['python:3.11-slim'], ['my/python'])
    """
    text = dockerfile.read_text(encoding="utf-8", errors="replace")
    first_from = _FROM.search(text)
    head = text[: first_from.start()] if first_from else text
    values = {m.group(1): m.group(2) or "" for m in _ARG.finditer(head)}
    values.update({k: v for k, v in build_args.items() if v})

    def fill(match: re.Match[str]) -> str:
        return values.get(match.group(1) or match.group(2), "")

    images: list[str] = []
    stages: set[str] = set()
    for match in _FROM.finditer(text):
        image = re.sub(r"\$\{([^}:]+)[^}]*\}|\$([A-Za-z_][A-Za-z0-9_]*)", fill, match.group(1))
        if image.lower() not in stages and image != "scratch" and image not in images:
            images.append(image)
        if match.group(2):
            stages.add(match.group(2).lower())
    return images


def _has_image(client: Any, image: str) -> bool:
    try:
        client.images.get(image)
    except ImageNotFound:
        return False
    return True


def context_digest(
    client: Any, context: Path, dockerfile: str, build_args: Mapping[str, str],
    target: str = "",
) -> str:
    """What an image built from ``context`` is made of, as a digest; "" when unknown (a
    ``FROM`` image is not on this machine: the build itself says what to do about that)."""
    made_of = [dockerfile, sorted(build_args.items())] + ([target] if target else [])
    digest = hashlib.sha256(json.dumps(made_of).encode())
    for image in from_images(context / dockerfile, build_args):
        try:
            digest.update(str(client.images.get(image).id).encode())
        except ImageNotFound:
            return ""
    ignore = context / ".dockerignore"
    patterns = [line.strip() for line in ignore.read_text().splitlines()
                if line.strip() and not line.strip().startswith("#")] if ignore.exists() else []
    # The same selection of files docker-py sends as the build context.
    for relative in sorted(exclude_paths(str(context), patterns, dockerfile=dockerfile)):
        path = context / relative
        info = path.lstat()
        digest.update(f"\0{relative}\0{info.st_mode:o}\0".encode())
        if path.is_symlink():
            digest.update(os.readlink(path).encode())
        elif path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


class BuildCache:
    """Image ids by build key: one build per key, however many services ask at once.

    Example:
        >>> cache, calls = BuildCache(), []
        >>> cache.get("k", lambda: calls.append(1) or "sha256:1"), cache.get("k", lambda: "x")
        ('sha256:1', 'sha256:1')
        >>> len(calls)
        1
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[Hashable, threading.Lock] = {}
        self._ids: dict[Hashable, str] = {}

    def get(self, key: Hashable, build: Callable[[], str]) -> str:
        """The id built for ``key``, building it (once) if needed; a failed build is retried
        by the next caller, who then sees the failure for itself."""
        with self._lock:
            key_lock = self._keys.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._ids:
                self._ids[key] = build()
            return self._ids[key]
