"""Building a service's image from its context, with the build log kept and shown on failure.

Example (needs an engine, so not run as a doctest):

    image_id = build_image(client, "orders", Path("demo/orders"), "Dockerfile",
                           build_args={"BASE_IMAGE": "interlock/python-base:bookworm"},
                           log_dir=Path(".interlock/runs/r1"), network="none")
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from docker.errors import APIError

from interlock.errors import InterlockError
from interlock.stack.docker_sweep import LABEL_SERVICE, LABEL_STACK

BUILD_TAIL_LINES = 40


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
) -> str:
    """Build ``context`` and return the image id; the output goes to ``<name>.build.log``.

    ``network="none"`` makes sure the build needs nothing from outside. A failed build
    raises an InterlockError with the last build lines and the log file's path.
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
    progress(f"interlock: {name}: building {context} ({dockerfile})")
    log_file = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        log_file = (log_dir / f"{name}.build.log").open("w", encoding="utf-8")
    tail: deque[str] = deque(maxlen=BUILD_TAIL_LINES)
    image_id = ""
    error = ""
    try:
        for chunk in client.api.build(
            path=str(context), dockerfile=dockerfile, tag=tag, buildargs=dict(build_args),
            rm=True, forcerm=True, decode=True, network_mode=network,
            labels={LABEL_SERVICE: name, LABEL_STACK: stack},
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
        raise InterlockError(
            f'Building the image of service "{name}" failed: {error or "no image"}',
            details="last build lines:\n" + "\n".join("| " + line for line in tail),
            where=f"{context / dockerfile}",
            hint="Fix the Dockerfile; the full build log is "
            + (str(log_dir / f"{name}.build.log") if log_dir else "above"),
        )
    return image_id
