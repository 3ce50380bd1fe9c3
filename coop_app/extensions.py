"""Flask extensions, created unbound and bound to the app in create_app."""

from flask import current_app
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

from coop_app.db import metadata

db = SQLAlchemy(metadata=metadata)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
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
talisman = Talisman()
