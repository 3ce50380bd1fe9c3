"""The floor of the app's pages: what a page costs before it shows anything of its own.

Served by gunicorn like the app, on the full dataset, and measured like the pages, as
information beside `page_ratio` (no target): the app as `wsgi:app` builds it, plus two
routes of the benchmark's own, open to every role:
- `/_bench/empty`: a logged-in request that answers "ok": every request hook (the
  session cookie, the login session's check in the database, access rules, CSRF, security
  headers, the audit hook) and nothing else;
- `/_bench/layout`: an empty page drawn in the app's layout (menu, language switch,
  logout form).
No page of the app can be faster than these, so their ratio to hello-world is the best
`page_ratio` a page could reach with the login, the security and the layout it has.
These routes exist only in this module; the app itself never has them.
"""

from flask import render_template

from benchmarks.pages import LAYOUT_MARKER
from coop_app.auth.access import allow
from coop_app.auth.roles import Role
from wsgi import app

_LAYOUT = app.jinja_env.from_string(
    '{% extends "base.html" %}{% block title %}Bench{% endblock %}'
    '{% block content %}<p data-testid="' + LAYOUT_MARKER + '"></p>{% endblock %}'
)


@app.get("/_bench/empty")
@allow(*Role)
def empty() -> str:
    return "ok"


@app.get("/_bench/layout")
@allow(*Role)
def layout() -> str:
    return render_template(_LAYOUT)
