"""Optional login for a shared deployment: Streamlit's built-in OpenID Connect (`st.login`).

It is on when `.streamlit/secrets.toml` (beside the app, or `~/.streamlit/`) has an `[auth]` section
(docs/data.md, "A shared deployment"); then every page asks for a login first. Streamlit needs
Authlib for it (`pip install "streamlit[auth]"`): without it the app says so instead of opening.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit as st

from dashboard.paths import REPO_DIR

SECRETS = (REPO_DIR / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml")


def configured() -> bool:
    """An [auth] section in a secrets file Streamlit reads (checked without starting Streamlit)."""
    for path in SECRETS:
        try:
            if "auth" in tomllib.loads(path.read_text()):
                return True
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return False


def require_login() -> None:
    """When login is configured, stop here until the viewer has logged in."""
    if not configured():
        return
    try:
        logged_in = bool(st.user.is_logged_in)
    except Exception:  # an [auth] section Streamlit cannot use: say so, show nothing
        st.error("Login is configured (an [auth] section in secrets.toml) but Streamlit cannot use it; "
                 "see the server log and docs/data.md.")
        st.stop()
    if not logged_in:
        st.title("Offline → online")
        st.write("This dashboard is shared inside the team: log in to open it.")
        if st.button("Log in", type="primary"):
            try:
                st.login()
            except Exception:  # e.g. Authlib missing
                st.error('Login could not start. The server needs `pip install "streamlit[auth]"` '
                         "and a complete [auth] section (docs/data.md).")
        st.stop()
    st.sidebar.button("Log out", on_click=st.logout)
