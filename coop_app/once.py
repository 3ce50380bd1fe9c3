"""Views' side of "one intent, one posting": run a money form's action once per key.

Every money form carries a one-time key (coop_app.ledger.idempotency). The view hands
its action to `post_once`, which claims the key, runs the action, remembers the result's
URL with the key and commits; the same form sent again is sent to that first result.
"""

from collections.abc import Callable

from flask import flash, request
from flask_babel import gettext as _
from flask_login import current_user

from coop_app.extensions import db
from coop_app.ledger import idempotency


def post_once(form_key: str | None, action: Callable[[], str]) -> str:
    """Run `action` (which posts and returns its result's URL) once for `form_key`.

    Returns the URL to redirect to. Raises DomainError when refused; the caller rolls
    back, so nothing is written.
    """
    earlier = idempotency.claim(form_key, request.form, user_id=current_user.id)
    if earlier:
        flash(_("This was already recorded. Here is what the first sending recorded."), "info")
        return earlier
    url = action()
    idempotency.record_result(form_key, url)
    db.session.commit()
    return url
