"""Screenshots of the Allure reports of a failed end-to-end scenario, with its traffic diagram
open (``make report-screenshots``): what a product owner sees, checked by looking.

1. The reference suite's first e2e scenario is run with one expectation made wrong
   ("completed" → "closed"), from a temporary suite folder that links this checkout's steps,
   hooks, stack file and demo, so nothing in the checkout changes.
2. ``interlock report`` builds the Allure 3 report (and the Allure 2 one when an Allure 2
   command line is given: ``--allure2 path/to/allure``).
3. Headless Chromium (Debian's package) opens each report from a loopback server, clicks the
   failed scenario and its "traffic diagram" attachment, and saves a PNG under
   ``reports/screenshots/``. It is driven over ``--remote-debugging-pipe`` (the DevTools
   protocol on two pipes: no port, no extra library), and waits on what the page shows, never
   for a fixed time.

Example:
    $ python scripts/report_screenshots.py --allure3 .venv/allure/node_modules/.bin/allure
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FEATURE = ROOT / "features" / "e2e" / "order_lifecycle.feature"
SCENARIO = "A customer's order is assigned, worked on and completed"
CATEGORY = "Product defects: the system did not behave"
FAILURE = 'The customer sees the order as "completed", expected "closed"'
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--remote-debugging-pipe",
]


def failing_suite(folder: Path) -> Path:
    """A suite folder whose only feature is the e2e scenario with one wrong expectation."""
    folder.mkdir(parents=True)
    for name in ("steps", "environment", "environment.py", "demo"):
        (folder / name).symlink_to(ROOT / name)
    text = FEATURE.read_text()
    head = text.partition("  @critical")[0]  # the first scenario only
    wrong = head.replace('Then the customer sees the order as "completed"',
                         'Then the customer sees the order as "closed"')
    assert wrong != head, "the e2e scenario changed: update report_screenshots.py"
    (folder / "features" / "e2e").mkdir(parents=True)
    (folder / "features" / "e2e" / FEATURE.name).write_text(wrong)
    return folder


def run_suite(folder: Path, results: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-m", "behave", "features", "--no-capture", "-f", "plain", "-o", "-",
         "-f", "interlock.behave.allure_formatter:AllureFormatter", "-o", str(results),
         "--no-junit"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode == 0 or not any(results.glob("*-result.json")):
        raise SystemExit("report-screenshots: the scenario was meant to fail:\n"
                         + done.stdout[-3000:] + done.stderr[-3000:])


def build(results: Path, output: Path, allure: str) -> Path:
    env = {**os.environ, "INTERLOCK_ALLURE": allure,
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    subprocess.run([sys.executable, "-m", "interlock.cli", "report", "--results", str(results),
                    "--output", str(output), "--name", "Interlock reference suite"],
                   env=env, check=True, timeout=900, capture_output=True)
    return output


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """``folder`` on a loopback HTTP server (a free port), for as long as the block runs."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: only the screenshots matter."""


class Browser:
    """Headless Chromium driven through the DevTools protocol on a pipe pair (fd 3 and 4)."""

    def __init__(self, chromium: str, profile: Path, width: int = 1500, height: int = 1100):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def onto_3_and_4() -> None:
            # Chromium reads the protocol from fd 3 and writes to fd 4. Copied high first,
            # so that a pipe already on 3 or 4 is not overwritten before it is moved.
            high_r, high_w = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.process = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             f"--window-size={width},{height}", "about:blank"],
            pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=onto_3_and_4)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._id = 0
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"],
                                 flatten=True)["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width,
                  height=height, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, session: bool = False, **params: Any) -> Any:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise RuntimeError("Chromium closed its DevTools pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def evaluate(self, script: str) -> Any:
        result = self.call("Runtime.evaluate", session=True, expression=script,
                           returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def wait_for(self, script: str, what: str, timeout: float = 30) -> Any:
        """Re-evaluate ``script`` until it gives something truthy (the page shows it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(script)
            if value:
                return value
            time.sleep(0.2)
        raise SystemExit(f"report-screenshots: the page never showed {what}")

    def open(self, url: str) -> None:
        self.call("Page.navigate", session=True, url=url)

    def click_text(self, text: str, what: str, exact: bool = True) -> None:
        """Click the innermost visible element whose text is ``text``."""
        script = _CLICK % (json.dumps(text), "true" if exact else "false")
        self.wait_for(script, what)

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


# Finds the innermost visible element with the text, scrolls to it and clicks it.
_CLICK = """(() => {
  const wanted = %s, exact = %s;
  const all = [...document.querySelectorAll('body *')].filter(e => {
    const t = (e.innerText || '').trim();
    return (exact ? t === wanted : t.includes(wanted)) && e.offsetParent !== null;
  });
  const inner = all.filter(e => !all.some(o => o !== e && e.contains(o)));
  if (!inner.length) return false;
  inner[0].scrollIntoView({block: 'center'});
  inner[0].click();
  return true;
})()"""

# The diagram is shown once an image of the SVG attachment has loaded (both Allure versions
# show it from a blob: URL; Allure 3 names the file in the image's alt text).
_SHOWS_DIAGRAM = """(() => [...document.querySelectorAll('img')].some(e =>
    ((e.src || '') + ' ' + (e.alt || '')).match(/blob:|\\.svg/) && e.naturalWidth > 300))()"""


def shoot(chromium: str, url: str, out: Path, profile: Path, path: list[str]) -> None:
    """Open ``url``, click through ``path`` (tree nodes by their text) to the scenario, open
    its traffic diagram, and save the screenshot as ``out``."""
    browser = Browser(chromium, profile)
    try:
        browser.open(url)
        for node in path:
            browser.click_text(node, f'"{node}" in the tree', exact=False)
        browser.click_text(SCENARIO, "the failed scenario in the tree", exact=False)
        browser.click_text("traffic diagram", "the traffic diagram attachment")
        browser.wait_for(_SHOWS_DIAGRAM, "the diagram")
        browser.evaluate(_SCROLL)
        browser.wait_for("document.readyState === 'complete'", "a loaded page")
        browser.screenshot(out)
    except SystemExit:
        # What the page did show, to see why: the screenshot and the page's HTML.
        browser.screenshot(out.with_name(out.stem + "-unfinished.png"))
        out.with_name(out.stem + "-unfinished.html").write_text(
            browser.evaluate("document.documentElement.outerHTML") or "")
        raise
    finally:
        browser.close()


_SCROLL = """(() => {
  const e = [...document.querySelectorAll('body *')].find(
      e => (e.innerText || '').trim() === 'traffic diagram' && e.offsetParent !== null);
  if (e) e.scrollIntoView({block: 'start'});
  return true;
})()"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--allure3", help="Allure 3's command line (npm allure)")
    parser.add_argument("--allure2", help="Allure 2's command line (npm allure-commandline)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--out", default=str(ROOT / "reports" / "screenshots"))
    args = parser.parse_args(argv)
    if not shutil.which(args.chromium):
        raise SystemExit("report-screenshots: no chromium; apt-get install -y chromium")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="interlock-screens-") as temp:
        work = Path(temp)
        suite = failing_suite(work / "suite")
        results = work / "allure-results"
        run_suite(suite, results)
        for major, allure in ((3, args.allure3), (2, args.allure2)):
            if not allure:
                continue
            report = build(results, work / f"allure{major}-report", allure)
            target = out / f"allure{major}-failed-e2e.png"
            # Allure 3 lists the scenarios at once; Allure 2 is opened on its categories: the
            # failure's category, then its message (the group), then the scenario.
            path = [] if major == 3 else [CATEGORY, FAILURE]
            with served(report) as url:
                shoot(args.chromium, url + ("#categories" if major == 2 else ""), target,
                      work / f"profile{major}", path)
            print(f"report-screenshots: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
