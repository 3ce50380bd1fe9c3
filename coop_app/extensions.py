"""Flask extensions, created unbound and bound to the app in create_app."""

from functools import cached_property

from flask import current_app, request
from flask_babel import Babel, Domain, get_locale
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

from coop_app.db import SAFE_METHODS, metadata

db = SQLAlchemy(metadata=metadata)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


class _LocaleDomain(Domain):
    """Flask-Babel's message domain, with each language's translations kept by locale.

    Flask-Babel finds the request's context and writes out the locale's name again for
    every string it translates (through Werkzeug's context proxies); a page translates a
    few hundred strings (labels, menus, messages), which cost it several percent of its
    time. The locale still comes from `get_locale()` each time, so a request's language
    (or `force_locale`) is always the one in force.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._by_locale = {}

    def get_translations(self):
        locale = get_locale()
        if locale is None:
            return super().get_translations()
        translations = self._by_locale.get(locale)
        if translations is None:
            translations = self._by_locale[locale] = super().get_translations()
        return translations


class _Babel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return _LocaleDomain(domain=self.domain)


babel = _Babel()
bootstrap = Bootstrap5()


def _logged_in() -> bool:
    return current_user.is_authenticated


def _anonymous_limit() -> str:
    return current_app.config["ANONYMOUS_RATE_LIMIT"]


#: Per address; the default limit applies only to people not logged in, so that nobody
#: logged out can flood the audit log with refused requests. (A callable, because
#: Flask-Limiter would otherwise keep the first app's configured default for good.)
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[_anonymous_limit],
    default_limits_exempt_when=_logged_in,
)


@limiter.request_filter
def _logged_in_reading() -> bool:
    """A logged-in person reading a page is under no limit at all (the default limit is
    for people not logged in; the login limits are on POSTs), so the limiter's look-up of
    the view's limits is skipped for it: it is a cost of every page otherwise."""
    return request.method in SAFE_METHODS and current_user.is_authenticated


talisman = Talisman()
