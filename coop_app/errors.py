"""Domain errors and the Indonesian error pages (never a traceback)."""

import logging
import secrets

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


#: Status of a form re-shown because what was sent was refused (nothing was changed).
REFUSED = 422


class DomainError(Exception):
    """A business rule refused an action; `message` is shown to the user as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class StaleEditError(DomainError):
    """Someone else changed the record since the form was loaded."""

    def __init__(self, message: str | None = None):
        super().__init__(
            message or str(_l("This record was changed by someone else. Reload and try again."))
        )


ERROR_PAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Access denied"), _l("You do not have access to this page.")),
    404: (_l("Page not found"), _l("The page you are looking for does not exist.")),
    405: (_l("Method not allowed"), _l("This address cannot be opened that way.")),
    413: (
        _l("File too large"),
        _l("What you sent is larger than the limit. Send a smaller file."),
    ),
    429: (
        _l("Too many requests"),
        _l("Too many attempts in a short time. Wait a moment and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("The server hit an error. Nothing was saved. Give the error code to the administrator."),
    ),
}

CSRF_MESSAGE = _l("The form has expired or is not valid. Reload the page and try again.")


def render_error(status: int, message: str | None = None, error_code: str | None = None):
    """Render the error page for `status` with an optional more specific message."""
    title, default_message = ERROR_PAGES.get(status, ERROR_PAGES[400])
    body = render_template(
        "errors/error.html",
        status=status,
        title=title,
        message=message or default_message,
        error_code=error_code,
    )
    return body, status


def _handle_http(error: HTTPException):
    """A client error keeps its status (with the generic page if it has none of its own)."""
    if error.code is None or error.code >= 500:
        return _handle_unexpected(error)
    return render_error(error.code)


def _handle_csrf(_error: CSRFError):
    return render_error(400, str(CSRF_MESSAGE))


def _handle_unexpected(error: Exception):
    """Log the traceback with a short code and show only the code to the user."""
    from coop_app.extensions import db

    db.session.rollback()
    code = secrets.token_hex(4).upper()
    log.exception("unhandled error %s", code, exc_info=error)
    return render_error(500, error_code=code)


def init_app(app: Flask) -> None:
    """Register the handlers for every HTTP error, CSRF failures and unexpected exceptions."""
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
