"""The baseline page: a hello-world Flask route, served by gunicorn like the app.

Its requests per second are the ceiling a page can reach on this machine with these
gunicorn settings; `page_ratio` is a page's requests per second over this one's.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
