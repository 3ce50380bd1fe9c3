"""Password hashing (argon2id), the password rules and temporary passwords.

The rules follow NIST SP 800-63B: at least 8 characters, long passphrases welcome, no
composition rules, and no password from a list of common ones. The bundled list is
Django's common-passwords list (BSD licence) cut to entries of 8 or more characters,
plus common Indonesian choices.
"""

import gzip
import secrets
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

MIN_LENGTH = 8
#: Long enough for any passphrase; bounded so that hashing cannot be abused.
MAX_LENGTH = 256

#: Words for readable temporary passwords (shown once on a slip, changed at first login).
_TEMP_WORDS = [
    "anggrek",
    "bambu",
    "beras",
    "cabai",
    "cengkeh",
    "delima",
    "durian",
    "embun",
    "gabah",
    "gula",
    "jagung",
    "jahe",
    "jambu",
    "kacang",
    "kapas",
    "kayu",
    "kelapa",
    "kemiri",
    "kencur",
    "kopi",
    "kunyit",
    "lada",
    "mangga",
    "melati",
    "nanas",
    "padi",
    "pala",
    "pandan",
    "pepaya",
    "pisang",
    "rambutan",
    "salak",
    "sawah",
    "sawo",
    "sirih",
    "singkong",
    "tebu",
    "teh",
    "telaga",
    "terong",
    "tomat",
    "ubi",
    "wortel",
]


def _hasher() -> PasswordHasher:
    return PasswordHasher(**current_app.config["PASSWORD_HASH_PARAMS"])


def hash_password(password: str) -> str:
    """Hash with argon2id using the app's cost parameters."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; never raises for a wrong or malformed hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other cost parameters than the current ones."""
    return _hasher().check_needs_rehash(password_hash)


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower-cased."""
    data = resources.files("coop_app.auth").joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def password_problem(password: str, *, username: str = "") -> str | None:
    """Return why `password` is not acceptable (in the user's language), or None."""
    if len(password) < MIN_LENGTH:
        return _("The password must have at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("The password may have at most %(n)d characters.", n=MAX_LENGTH)
    lowered = password.lower()
    if lowered in common_passwords():
        return _("This password is too common and easy to guess. Choose another.")
    if username and lowered == username.lower():
        return _("The password must not be the same as the username.")
    return None


def temporary_password() -> str:
    """A readable random password such as `kopi-salak-jahe-padi-47`, never a common one."""
    words = [secrets.choice(_TEMP_WORDS) for _ in range(4)]
    return "-".join(words) + f"-{secrets.randbelow(90) + 10}"
