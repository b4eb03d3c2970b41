"""Who may reach the app: the login its settings ask for, and what is unsafe about serving on
a given address, with or without one.
"""

from __future__ import annotations

import ipaddress

from .config import Settings
from .errors import ConfigError

LOOPBACK = ("localhost",)


def login(settings: Settings) -> tuple[str, str] | None:
    """The login asked for by ``QA_BOT_USERNAME`` and ``QA_BOT_PASSWORD`` (``settings.username``
    and ``settings.password``), or None when neither is set.

    Raises:
        ConfigError: only one of them is set, or one is blank.
    """
    user, password = settings.username, settings.password
    if user is None and password is None:
        return None
    if user is None or not user.strip() or not password:
        raise ConfigError("set both QA_BOT_USERNAME and QA_BOT_PASSWORD (neither blank) to require "
                          "a login, or neither to serve without one")
    return user.strip(), password


def is_loopback(host: str) -> bool:
    """True when ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warnings(host: str, share: bool, auth: object) -> list[str]:
    """What is unsafe about serving on ``host`` (and a share link) with or without a login."""
    warnings = []
    if auth is None and not is_loopback(host):
        warnings.append(f"serving on {host} without a login: anyone who can reach this port can ask "
                        "questions and add transcripts. Set QA_BOT_USERNAME and QA_BOT_PASSWORD.")
    if auth is None and share:
        warnings.append("--share puts the app on a public URL without a login. Set QA_BOT_USERNAME "
                        "and QA_BOT_PASSWORD.")
    if auth is not None and not is_loopback(host):
        warnings.append(f"the login on {host} travels in clear text over HTTP: put the app behind a "
                        "reverse proxy with TLS (see README, Running it safely).")
    return warnings
