"""A scenario's traffic drawn as a sequence diagram: one self-contained SVG (no script, no
font or stylesheet fetched), so Allure 2 and 3 show it offline.

Lifelines left to right: the test, then services, stubs, brokers and databases in the order
they first appear. Each step that sent or received something is a band numbered as the
scenario numbers its steps ("3  When the dispatcher assigns…"); its messages are numbered
``3.1``, ``3.2``… A failed step's band and a failed exchange are red. Every text is redacted
with the run's ``Secrets`` (again: a token learned after a message was noted is hidden too).

Example:
    >>> from interlock._core.traffic import Traffic, SERVICE
    >>> t = Traffic(); t.begin_step(1, "When I send a request")
    >>> t.note("test", "orders", "GET /orders", target_kind=SERVICE)
    >>> svg = sequence_svg(t)
    >>> svg.startswith("<svg") and "GET /orders" in svg and "1.1" in svg
    True
"""

from __future__ import annotations

from interlock._core.secrets import Secrets
from interlock._core.traffic import BROKER, DATABASE, SERVICE, STUB, TEST, Message, Traffic

# What html.escape does (& < > and quotes), without loading html and its table of entities
# (1.5 ms of the start of every run that writes a report).
_ESCAPED = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})
_ESCAPED_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str, quote: bool = True) -> str:
    """``text`` safe in SVG's text, and with ``quote`` in its attributes.

    Example:
        >>> escape('<a href="x">Tom & Jerry</a>')
        '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&lt;/a&gt;'
    """
    return text.translate(_ESCAPED if quote else _ESCAPED_TEXT)


_COLUMN = 190        # distance between lifelines
_MARGIN = 24
_HEAD = 44           # height of a lifeline's box
_ROW = 21            # height of one message
_BAND = 22           # height of a step's band
_CHAR = 6.6          # width of one character at 11px monospace, near enough
_RED = "#c62828"
_FILL = {TEST: "#37474f", SERVICE: "#1565c0", STUB: "#6a1b9a", BROKER: "#ef6c00",
         DATABASE: "#2e7d32"}
_ORDER = {TEST: 0, SERVICE: 1, STUB: 2, BROKER: 3, DATABASE: 4}


def lifelines(traffic: Traffic) -> list[tuple[str, str]]:
    """The participants in drawing order: ``(name, kind)``, the test first.

    Example:
        >>> from interlock._core.traffic import Traffic, DATABASE
        >>> t = Traffic(); t.note("test", "db", "SELECT 1", target_kind=DATABASE)
        >>> t.note("test", "orders", "GET /")
        >>> lifelines(t)
        [('test', 'test'), ('orders', 'service'), ('db', 'database')]
    """
    return _in_order(traffic.snapshot()[0])


def _in_order(participants: dict[str, str]) -> list[tuple[str, str]]:
    seen = list(participants.items())
    return sorted(seen, key=lambda item: (_ORDER.get(item[1], 1), seen.index(item)))


def sequence_svg(traffic: Traffic, secrets: Secrets | None = None, title: str = "") -> str:
    """The SVG text of ``traffic``'s sequence diagram."""
    secrets = secrets or Secrets()
    participants, messages = traffic.snapshot()  # (more may be noted meanwhile)
    lines = _in_order(participants)
    x = {name: _MARGIN + _COLUMN // 2 + i * _COLUMN for i, (name, _) in enumerate(lines)}
    width = max(2 * _MARGIN + len(lines) * _COLUMN, 420)
    body: list[str] = []
    top = _MARGIN + (22 if title else 0)
    y = top + _HEAD + 14
    last_step: int | None = None
    counter = 0
    for message in messages:
        if message.step != last_step:
            last_step, counter = message.step, 0
            step = traffic.steps.get(message.step)
            text = f"{message.step}  {step.text}" if step else "before the first step"
            red = step is not None and step.failed
            body.append(
                f'<rect x="{_MARGIN // 2}" y="{y}" width="{width - _MARGIN}" height="{_BAND - 5}" '
                f'rx="3" fill="{"#ffebee" if red else "#eceff1"}"/>'
                f'<text x="{_MARGIN}" y="{y + 12}" class="band{" failed" if red else ""}">'
                f"{_text(secrets, text, (width - 2 * _MARGIN) / _CHAR)}</text>")
            y += _BAND
        counter += 1
        number = f"{message.step}.{counter}"
        body.append(_arrow(x[message.source], x[message.target], y, number, message, secrets))
        y += _ROW
    height = y + _HEAD // 2 + _MARGIN
    heads = []
    for name, kind in lines:
        cx = x[name]
        heads.append(
            f'<line x1="{cx}" y1="{top + _HEAD}" x2="{cx}" y2="{height - _MARGIN}" '
            f'stroke="#b0bec5" stroke-dasharray="4 4"/>'
            f'<g class="lifeline" data-kind="{kind}">'
            f'<rect x="{cx - _COLUMN // 2 + 10}" y="{top}" width="{_COLUMN - 20}" '
            f'height="{_HEAD - 8}" rx="{14 if kind == BROKER else 4}" fill="{_FILL.get(kind)}"/>'
            f'<text x="{cx}" y="{top + 16}" class="head">{_text(secrets, name, 24)}</text>'
            f'<text x="{cx}" y="{top + 29}" class="kind">{kind}</text></g>')
    if not messages:
        body.append(f'<text x="{_MARGIN}" y="{top + _HEAD + 30}" class="band">'
                    "no HTTP, event or query was seen in this scenario</text>")
        height += 20
    heading = (f'<text x="{_MARGIN}" y="{_MARGIN + 4}" class="title">'
               f"{_text(secrets, title, width / 7.5)}</text>" if title else "")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, monospace">'
        "<style>text{font-size:11px;fill:#263238}.head{fill:#fff;font-weight:bold;"
        "text-anchor:middle;font-size:12px}.kind{fill:#e3f2fd;text-anchor:middle;"
        "font-size:10px}.band{font-size:11px;font-style:italic}.title{font-size:13px;"
        "font-weight:bold}.num{font-size:10px;fill:#607d8b}.failed{fill:#c62828}</style>"
        '<defs><marker id="ok" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8"'
        ' orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#455a64"/></marker>'
        '<marker id="bad" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        f'fill="{_RED}"/></marker></defs>'
        f'<rect width="{width}" height="{height}" fill="#fff"/>{heading}'
        + "".join(heads) + "".join(body) + "</svg>"
    )


def _arrow(x1: int, x2: int, y: int, number: str, message: Message, secrets: Secrets) -> str:
    colour = _RED if message.failed else "#455a64"
    marker = "bad" if message.failed else "ok"
    dash = ' stroke-dasharray="5 3"' if message.reply else ""
    css = ' class="failed"' if message.failed else ""
    label = f"{number} {message.label}"
    tip = f"<title>{escape(secrets.redact(message.detail or message.label))}</title>"
    if x1 == x2:  # a participant talking to itself: a small loop
        return (f'<g class="message" data-step="{message.step}">{tip}'
                f'<path d="M{x1},{y} h30 v10 h-30" fill="none" stroke="{colour}"{dash} '
                f'marker-end="url(#{marker})"/><text x="{x1 + 36}" y="{y + 8}"{css}>'
                f"{_text(secrets, label, _COLUMN / _CHAR)}</text></g>")
    left, right = min(x1, x2), max(x1, x2)
    room = (right - left) / _CHAR - 1
    return (f'<g class="message" data-step="{message.step}" '
            f'data-from="{escape(message.source)}" data-to="{escape(message.target)}" '
            f'data-failed="{str(message.failed).lower()}">{tip}'
            f'<line x1="{x1}" y1="{y + 13}" x2="{x2}" y2="{y + 13}" stroke="{colour}" '
            f'stroke-width="1.4"{dash} marker-end="url(#{marker})"/>'
            f'<text x="{left + (14 if x2 < x1 else 6)}" y="{y + 9}"{css}>'
            f"{_text(secrets, label, room)}</text></g>")


def _text(secrets: Secrets, text: str, room: float) -> str:
    """Redacted, cut to ``room`` characters, escaped for XML."""
    return escape(secrets.shorten(text, max(int(room), 8)), quote=False)
