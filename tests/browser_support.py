"""Helpers for the browser tests: find Debian's Chromium, run a Voilà server, wait for it.

Chromium is the system package (``apt-get install chromium``), never a browser downloaded
by ``playwright install``. Without it the browser tests skip with a message saying how to
enable them; under CI (``CI=true``) a missing browser is a failure instead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CASEKIT_CHROMIUM", "/usr/bin/chromium"))
#: Flags that keep Chromium quiet, offline and sandbox-free in containers (stack-checks §4).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MSG_NO_BROWSER = (
    "browser tests need Debian's Chromium at {path} and the playwright package: "
    "`apt-get install chromium` (do not run `playwright install`); {detail}"
)
MSG_SERVER = "Voilà did not answer on {url} within {timeout:.0f} s; its log:\n{log}"


def require_browser() -> Path:
    """Chromium's path; skip (or fail under CI) when it or playwright is missing."""
    detail = ""
    if not CHROMIUM.is_file():
        detail = f"{CHROMIUM} not found"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            detail = "python package playwright is not installed"
    if detail:
        message = MSG_NO_BROWSER.format(path=CHROMIUM, detail=detail)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url + "api", timeout=5) as resp:  # voila's API root
                if resp.status < 500:
                    return True
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    return False


@contextmanager
def voila_server(
    notebook: Path, *, env: Mapping[str, str] | None = None, timeout: float = 120.0
) -> Iterator[str]:
    """Serve ``notebook`` with Voilà on a free 127.0.0.1 port; yields the base URL.

    The server runs in its own process group and is killed (with its kernels) on exit.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = Path(tempfile.mkdtemp(prefix="casekit-voila-")) / "voila.log"
    voila = Path(sys.executable).with_name("voila")
    cmd = [
        str(voila), str(notebook), "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
        "--Voila.show_tracebacks=True",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    try:
        if not _wait_http(url, timeout, proc):
            text = log.read_text(encoding="utf-8", errors="replace")[-4000:]
            raise RuntimeError(MSG_SERVER.format(url=url, timeout=timeout, log=text))
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.unlink(missing_ok=True)
