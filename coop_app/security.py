"""Security headers, caching rules and proxy trust."""

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from coop_app.extensions import talisman

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


def init_app(app: Flask) -> None:
    """Headers on every response; HSTS and HTTPS redirects only in production."""
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
