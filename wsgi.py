"""WSGI entry point: `gunicorn wsgi:app` (Linux) or `waitress-serve wsgi:app` (Windows)."""

from coop_app import create_app

app = create_app()
