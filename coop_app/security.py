"""Security headers, caching rules and proxy trust."""

import re

from flask import Flask, Response, request
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from coop_app.db import SAFE_METHODS
from coop_app.errors import render_error
from coop_app.extensions import talisman
from coop_app.forms import MAX_ID

CONTROL_CHARACTER_MESSAGE = _l("What you sent contains characters that are not allowed.")

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    # Bootstrap draws small icons (the phone menu button, select arrows) as data: SVGs.
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def _no_store(response: Response) -> Response:
    """Pages and exports can carry personal and money data: never keep them in a cache."""
    if request.endpoint not in ("static", "bootstrap.static"):
        response.headers["Cache-Control"] = "no-store"
    return response


#: NUL and other C0 control characters except tab, line feed and carriage return.
_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _refuse_control_characters():
    """Hostile text: refuse control characters in the query or form before any view runs.

    They have no place in what people type, and PostgreSQL cannot store a NUL at all.
    """
    values = [*request.args.values()]
    if request.method not in SAFE_METHODS:
        values += [*request.form.values()]
    if any(_FORBIDDEN_CHARACTERS.search(value) for value in values):
        return render_error(400, str(CONTROL_CHARACTER_MESSAGE))
    return None


class RecordIdConverter(IntegerConverter):
    """`<int:...>` in every route, bounded to what a key column holds: a larger number is
    simply a page that does not exist (404), not a database overflow (500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Headers on every response; HSTS and HTTPS redirects only in production; bounded ids."""
    app.url_map.converters["int"] = RecordIdConverter
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    production = app.config["COOP_ENV"] == "production"
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=production,
        strict_transport_security_max_age=31536000,
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="same-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        frame_options="DENY",
    )
    app.after_request(_no_store)
    app.before_request(_refuse_control_characters)
