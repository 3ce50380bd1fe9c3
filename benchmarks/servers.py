"""gunicorn servers for the measurements, and logging in to the app over HTTP.

The app and the hello-world baseline run under exactly the same gunicorn settings (the
`make run` settings: 2 sync workers; no access log, so that writing it is not measured;
a long worker timeout, so that a slow page under load is measured rather than killed).
Each server is started in its own process group and the whole group is killed when the
block ends, also on errors and Ctrl-C.
"""

import html
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

GUNICORN_SETTINGS = ("--workers", "2", "--timeout", "120", "--log-level", "warning")


@dataclass(frozen=True)
class Server:
    url: str
    log: Path
    process: subprocess.Popen
    ready_path: str = "/"

    def wait_ready(self, within: float = 60) -> None:
        """Wait until the server answers 200 on its ready path (its workers have loaded)."""
        _wait_ready(self.process, self.url + self.ready_path, self.log, within)


class ServerError(RuntimeError):
    """A server did not start, or the app did not answer as expected."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, timeout: float = 5) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _wait_ready(process: subprocess.Popen, url: str, log: Path, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"gunicorn exited {process.returncode}:\n{_tail(log)}")
        try:
            if _get(url, timeout=2) == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise ServerError(f"gunicorn did not answer {url} within {within:.0f} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen) -> None:
    """Stop gunicorn and its workers: TERM to the process group, KILL if it lingers."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def gunicorn(app: str, *, env: dict, log: Path, ready_path: str = "/") -> Iterator[Server]:
    """Serve the WSGI `app` ("module:attribute") on a free local port for the block.

    The server is started, not waited for (`Server.wait_ready`), so that several servers
    can load at the same time."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", *GUNICORN_SETTINGS]
    command += ["--bind", f"127.0.0.1:{port}", app]
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 (our own arguments, no shell)
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield Server(url=url, log=log, process=process, ready_path=ready_path)
    finally:
        _stop(process)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Client:
    """A logged-in HTTP client (urllib with a cookie jar; redirects are not followed)."""

    base_url: str
    jar: http.cookiejar.CookieJar

    @classmethod
    def new(cls, base_url: str) -> "Client":
        return cls(base_url, http.cookiejar.CookieJar())

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        """GET (or POST `data`) `path`; returns the status, the Location header and the body."""
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with opener.open(self.base_url + path, data=body, timeout=120) as response:
                return response.status, "", response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            return error.code, error.headers.get("Location", ""), text

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)

    def log_in(self, username: str, password: str) -> None:
        """Log in through the form (with its CSRF token), as a person would."""
        status, _, page = self.request("/auth/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page
        )
        if status != 200 or token is None:
            raise ServerError(f"the login page answered {status} without a CSRF token")
        form = {"csrf_token": html.unescape(token.group(1)), "username": username}
        status, location, _ = self.request("/auth/login", form | {"password": password})
        if status != 302 or "/auth/login" in location:
            raise ServerError(f"logging in as {username} failed (status {status})")

    def check_page(self, path: str, marker: str) -> None:
        """The page answers 200 with `marker` in it (not a redirect, not an error page)."""
        status, location, page = self.request(path)
        if status != 200:
            raise ServerError(f"GET {path} answered {status} {location}".rstrip())
        if html.escape(marker) not in page and marker not in page:
            raise ServerError(f"GET {path} answered 200 without {marker!r}: not the real page")
