"""A page opened in the system's headless Chromium, driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: JSON messages ending in a NUL byte, on file descriptors 3 and 4),
so that no websocket client or browser download is needed."""
from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str | None:
    """The path of a Chromium on PATH, or None."""
    return next(filter(None, map(shutil.which, BROWSERS)), None)


class Page:
    """``url`` loaded in a fresh headless browser: :meth:`evaluate` runs JavaScript in it, and
    ``problems`` holds the console errors, uncaught exceptions and failed loads seen so far."""

    def __init__(self, url: str, profile: Path, timeout: float = 30.0):
        """``profile``: the browser's own folder, one the test's tmp_path holds, which pytest
        removes in time even after the test process is killed."""
        self.timeout, self.events, self.next_id = timeout, [], 0
        self.profile = profile
        to_browser, self.write = os.pipe()
        self.read, from_browser = os.pipe()

        def onto_3_and_4():  # in the child: the browser reads commands on fd 3 and writes replies on fd 4
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser)]
            os.dup2(high[0], 3), os.dup2(high[1], 4)

        self.process = subprocess.Popen(
            [browser(), "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--remote-debugging-pipe",
             f"--user-data-dir={self.profile}", "about:blank"],
            pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=onto_3_and_4)
        os.close(to_browser), os.close(from_browser)
        self.buffer = b""
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Runtime", "Log", "Page", "Network"):
                self.call(f"{domain}.enable", session=self.session)
            self.call("Page.navigate", session=self.session, url=url)
            self.wait_for("Page.loadEventFired")
        except BaseException:
            self.close()
            raise

    def send(self, method: str, session: str | None = None, **params) -> int:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.write, json.dumps(message).encode() + b"\0")
        return self.next_id

    def receive(self) -> dict:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.read], [], [], left)[0]:  # a browser that hangs: no read blocks
                raise TimeoutError("no reply from the browser")
            chunk = os.read(self.read, 1 << 16)
            if not chunk:
                raise RuntimeError("the browser closed its pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        wanted = self.send(method, session, **params)
        while True:
            message = self.receive()
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def wait_for(self, event: str) -> dict:
        for message in self.events:
            if message.get("method") == event:
                return message
        while True:
            message = self.receive()
            self.events.append(message)
            if message.get("method") == event:
                return message

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-serializable)."""
        result = self.call("Runtime.evaluate", session=self.session, expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    @property
    def problems(self) -> list[dict]:
        """Console errors and warnings, uncaught exceptions, log errors and failed loads."""
        bad = []
        for message in self.events:
            method, params = message.get("method"), message.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                bad.append(message)
            elif method in ("Runtime.exceptionThrown", "Network.loadingFailed"):
                bad.append(message)
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
                bad.append(message)
        return bad

    def requests(self) -> list[str]:
        """The URLs the page asked for."""
        return [m["params"]["request"]["url"] for m in self.events if m.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.send("Browser.close")
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()
            self.process.wait()
        for fd in (self.write, self.read):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
