"""The machine and software a run was measured on, so that a README can quote its figures."""

import os
import platform
import sqlite3
import subprocess
import sys
from importlib import metadata

import sqlalchemy as sa

from benchmarks.servers import ROOT


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def ram_gb() -> float | None:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _run(command: list[str]) -> str:
    try:
        finished = subprocess.run(  # noqa: S603 (our own arguments, no shell)
            command, cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return (finished.stdout or finished.stderr).strip()


def git_commit() -> dict:
    commit = _run(["git", "rev-parse", "HEAD"])
    dirty = bool(_run(["git", "status", "--porcelain", "--untracked-files=no"]))
    return {"commit": commit or None, "dirty": dirty}


def postgres_version(url) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SHOW server_version").scalar()
    finally:
        engine.dispose()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe(postgres_url=None) -> dict:
    """The machine, the software versions and the commit; `postgres_url` (a URL or None)
    is a database of the PostgreSQL server measured, if any."""
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(affinity) if affinity else os.cpu_count(),
        "ram_gb": ram_gb(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(postgres_url) if postgres_url else None,
        "wrk": _run(["wrk", "-v"]).splitlines()[0] if _run(["wrk", "-v"]) else None,
        "gunicorn": _version("gunicorn"),
        "flask": _version("flask"),
        "sqlalchemy": _version("sqlalchemy"),
        "xlsxwriter": _version("xlsxwriter"),
        "git": git_commit(),
    }
