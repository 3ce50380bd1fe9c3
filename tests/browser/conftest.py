"""Browser fixtures: the app served live on a copy of the test database, Debian's Chromium."""

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from coop_app import create_app
from coop_app.auth.roles import Role
from coop_app.auth.services import create_user
from coop_app.config import config_for_tests
from coop_app.extensions import db
from coop_app.members.models import Village, VillageGroup
from tests.helpers import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

#: The people of the journey: username -> (full name, role).
USERS = {
    "bendahara": ("Sri Wahyuni", Role.TREASURER),
    "ketua": ("Siti Rahayu", Role.ADMIN),
    "pengawas": ("Bambang Sutrisno", Role.SUPERVISOR),
}


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """Launch the Chromium installed by Debian (no browser is ever downloaded)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    return {"executable_path": str(CHROMIUM), "headless": True, "args": CHROMIUM_ARGS}


def _add_users(app) -> None:
    """The journey's people, and two villages of Wonosobo with a group each."""
    with app.app_context():
        for username, (full_name, role) in USERS.items():
            create_user(username=username, full_name=full_name, role=role, password=PASSWORD)
        for name in ("Kalibeber", "Sojokerto"):
            db.session.add(VillageGroup(village=Village(name=name), name="Mawar"))
        db.session.commit()


@dataclass(frozen=True)
class Live:
    """The served app and its URL (tests add their own records through `app`)."""

    url: str
    app: object


@pytest.fixture
def live_server(live) -> str:
    return live.url


@pytest.fixture
def live(sqlite_template, tmp_path) -> Iterator[Live]:
    """Serve the app with its users on a copy of the migrated SQLite file."""
    path = tmp_path / "coop.db"
    shutil.copy(sqlite_template, path)
    app = create_app(
        config_for_tests(f"sqlite:///{path}") | {"INSTANCE_PATH": str(tmp_path / "instance")}
    )
    _add_users(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Live(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join()
    server.server_close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def screenshot():
    """Save a full-page PNG of a page as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@dataclass
class BrowserProblems:
    """Failed responses and console errors seen in a browser context.

    A test declares the refusals it expects (`expect_status`); anything else fails it.
    """

    expected: set[tuple[str, int]] = field(default_factory=set)
    responses: list[tuple[str, int]] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)

    def watch(self, context) -> None:
        context.on("response", self._on_response)
        context.on("console", self._on_console)
        context.on("weberror", lambda error: self.console.append(("", str(error.error))))

    def expect_status(self, path: str, status: int) -> None:
        self.expected.add((path, status))

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self.responses.append((urlsplit(response.url).path, response.status))

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console.append((message.location.get("url", ""), message.text))

    def _is_expected_console(self, url: str, text: str) -> bool:
        """Chromium logs every failed document as an error; the expected ones are fine."""
        return text.startswith("Failed to load resource") and any(
            urlsplit(url).path == path and f"status of {status}" in text
            for path, status in self.expected
        )

    def unexpected(self) -> list:
        responses = [r for r in self.responses if r not in self.expected]
        console = [
            (url, text) for url, text in self.console if not self._is_expected_console(url, text)
        ]
        return responses + console


@pytest.fixture
def browser_problems() -> BrowserProblems:
    """What went wrong in the browser during a test (asserted empty by the test itself)."""
    return BrowserProblems()


@pytest.fixture
def open_context(new_context, browser_problems):
    """Open a browser context (a fresh browser profile) watched for errors."""

    def open_one(**kwargs):
        context = new_context(**kwargs)
        browser_problems.watch(context)
        return context

    return open_one
