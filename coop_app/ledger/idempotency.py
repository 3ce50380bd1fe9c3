"""One intent, one posting: one-time keys carried by every money form.

A form gets a fresh key when it is shown. Its first POST claims the key inside the
request's transaction; a second POST with the same key and the same fields (a double
click, a reload, a duplicated tab) is sent to the first one's result instead of posting
again; the same key with different fields is refused. A refused first POST rolls back
its claim, so the corrected form can be sent again.
"""

import hashlib
import json
import re
import secrets

import sqlalchemy as sa
from flask_babel import gettext as _

from coop_app.errors import DomainError
from coop_app.extensions import db
from coop_app.ledger.models import FormSubmission

_KEY = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
#: Fields that differ between two sendings of the same intent.
_NOT_PAYLOAD = {"csrf_token", "form_key"}


def new_key() -> str:
    return secrets.token_urlsafe(24)


def payload_hash(form) -> str:
    """A fingerprint of what was sent (the one-time key and CSRF token left out)."""
    items = sorted(
        (name, value) for name in form for value in form.getlist(name) if name not in _NOT_PAYLOAD
    )
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()


def claim(key: str | None, form, *, user_id: int | None) -> str | None:
    """Claim `key` for this submission; return the earlier result's URL if it was sent before.

    Raises DomainError for a missing key or a key already used with other fields.
    """
    if not key or not _KEY.match(key):
        raise DomainError(_("The form has expired. Reload the page and enter it again."))
    fingerprint = payload_hash(form)
    earlier = _earlier(key)
    if earlier is None:
        try:
            with db.session.begin_nested():
                db.session.add(FormSubmission(key=key, payload_hash=fingerprint, user_id=user_id))
                db.session.flush()
            return None
        except sa.exc.IntegrityError:
            earlier = _earlier(key)  # claimed at the same moment and committed since
    if earlier is None or earlier.payload_hash != fingerprint:
        raise DomainError(
            _("This form was already sent with other amounts. Reload the page to enter a new one.")
        )
    if earlier.result_url is None:
        raise DomainError(_("This form is already being sent. Wait a moment and reload."))
    return earlier.result_url


def _earlier(key: str) -> FormSubmission | None:
    return db.session.execute(
        sa.select(FormSubmission)
        .where(FormSubmission.key == key)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def record_result(key: str, url: str) -> None:
    """Remember where the claimed submission's answer is, for its replays."""
    db.session.execute(
        sa.update(FormSubmission).where(FormSubmission.key == key).values(result_url=url)
    )
