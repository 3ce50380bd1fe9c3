"""A health check for the proxy or monitor in front of the app: is the database reachable."""

import sqlalchemy as sa
from flask import Blueprint

from coop_app.auth.access import public
from coop_app.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/")
@public
def check():
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}
