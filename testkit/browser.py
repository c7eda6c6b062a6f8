"""The browser tests' parts: headless Chromium, `massicot serve` in its own process, the login form.

Chromium is /usr/bin/chromium, driven by Playwright; without it a browser test is skipped, or
fails in CI (testkit.missing). Screenshots go to $MASSICOT_SCREENSHOTS (/tmp/massicot-screenshots).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from testkit.missing import need
from testkit.net import free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "a long corrector password"
SECRET = "browser-test-secret"
SCREENSHOT_DIR = Path(os.environ.get("MASSICOT_SCREENSHOTS", "/tmp/massicot-screenshots"))


class Server:
    """`massicot serve` in its own process; start() again after a kill reuses the same port."""

    def __init__(self, db_url: str, store: Path, data: Path) -> None:
        self.db_url, self.store, self.data = db_url, store, data
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "MASSICOT_SECRET_KEY": SECRET, "MASSICOT_DATA": str(self.data)}
        massicot = str(Path(sys.executable).parent / "massicot")
        self.process = subprocess.Popen(
            [massicot, "serve", "--db", self.db_url, "--store", str(self.store), "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.data / "server.log", "ab"),  # noqa: SIM115 - kept for the process's life
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.data / "server.log").read_text()[-3000:])
            try:
                if httpx.get(self.base + "/login", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the server did not answer within 30 s")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def served_in_chromium(db_url: str, folder: Path) -> Iterator[tuple[Server, object]]:
    """`massicot serve` on the database (store in folder/store) and a headless Chromium, both
    stopped at the end."""
    need(CHROMIUM)
    from playwright.sync_api import sync_playwright

    server = Server(db_url, folder / "store", folder)
    server.start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                yield server, browser
            finally:
                browser.close()
    finally:
        server.stop()


def log_in(
    browser, server: Server, username: str, next_path: str, password: str = PASSWORD, **context_options
):
    """A fresh browser context logged in through the login form, on `next_path`: (context, page)."""
    options = {"viewport": {"width": 1400, "height": 1000}} | context_options
    context = browser.new_context(base_url=server.base, **options)
    page = context.new_page()
    page.goto(f"/login?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_url(server.base + next_path)
    return context, page


def shot(name: str) -> Path:
    """Where to save the screenshot `name`."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR / name
