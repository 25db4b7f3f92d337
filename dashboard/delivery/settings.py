"""Settings of `python -m dashboard alerts`, from (lowest first) defaults, a config file, the
environment and the command line. Secrets (a webhook URL's token, the SMTP password) are best kept in
the environment: `${NAME}` in a config value is replaced by the environment variable NAME, as in the
warehouse settings (dashboard.lake.settings).

Config file (TOML or YAML), given with `--config` or `$DASHBOARD_ALERTS_CONFIG`, section [alerts]:

    [alerts]
    base_url = "https://dashboard.example.com"     # deep links start here
    webhooks = ["${SLACK_WEBHOOK_URL}"]
    email_to = ["ml-team@example.com"]
    smtp = "smtp.example.com:587"
    smtp_security = "starttls"                    # none | starttls | ssl (default: starttls with a password)
    smtp_user = "alerts@example.com"
    smtp_password = "${SMTP_PASSWORD}"
    sender = "dashboard@example.com"
    kinds = ["unusual move", "proxy broke", "score drift", "model quality"]
    min_severity = "medium"                       # high | medium | low
    timeout = 10                                  # seconds per attempt
    retries = 2                                   # further attempts after a transient failure
    backoff = 2                                   # seconds before the first retry, doubling

Environment: DASHBOARD_ALERTS_<KEY> for each key (lists: comma-separated), e.g.
DASHBOARD_ALERTS_WEBHOOKS, DASHBOARD_ALERTS_SMTP_PASSWORD, DASHBOARD_ALERTS_BASE_URL.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from dashboard import config_file
from dashboard.delivery.mail import SmtpServer
from dashboard.services.alert_delivery import KINDS
from dashboard.services.weekly_alerts import SEVERITY_RANK

CONFIG_ENV = "DASHBOARD_ALERTS_CONFIG"
ENV_PREFIX = "DASHBOARD_ALERTS_"
SECURITY = ("none", "starttls", "ssl")
EMAIL = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+")  # one plain address: no display name, no list


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class AlertSettings:
    base_url: str = ""
    webhooks: tuple[str, ...] = field(default=(), repr=False)  # URLs carry tokens
    email_to: tuple[str, ...] = ()
    smtp: str = ""  # HOST:PORT
    smtp_security: str = ""
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    sender: str = "dashboard@localhost"
    kinds: tuple[str, ...] = KINDS
    min_severity: str = "medium"
    timeout: float = 10.0
    retries: int = 2
    backoff: float = 2.0

    def smtp_server(self) -> SmtpServer:
        host, _, port = self.smtp.rpartition(":")
        security = self.smtp_security or ("starttls" if self.smtp_password else "none")
        return SmtpServer(host, int(port), security, self.smtp_user, self.smtp_password, self.sender)

    def secrets(self) -> list[str]:
        """Values that must never be printed: every webhook URL and the SMTP password."""
        return [s for s in (*self.webhooks, self.smtp_password) if s]


LISTS = {"webhooks", "email_to", "kinds"}
NUMBERS = {"timeout": float, "retries": int, "backoff": float}
KEYS = {f.name for f in fields(AlertSettings)}


def load(config: Path | None = None, overrides: dict | None = None,
         environ: dict[str, str] | None = None) -> AlertSettings:
    """Defaults < config file < DASHBOARD_ALERTS_* < overrides (the command line; None = not given)."""
    env = dict(os.environ if environ is None else environ)
    path = config or (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
    values: dict = {}
    if path:
        values.update({k: _expand(v, env, f"{path} [alerts] {k}") for k, v in _read_config(path).items()})
    for key in KEYS:
        raw = env.get(ENV_PREFIX + key.upper())
        if raw is not None and raw.strip():
            values[key] = [x.strip() for x in raw.split(",") if x.strip()] if key in LISTS else raw.strip()
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return _check(values)


def _read_config(path: Path) -> dict:
    data = config_file.parse(path, SettingsError)
    section = data.get("alerts") if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise SettingsError(f"config file {path}: expected an [alerts] section")
    unknown = set(section) - KEYS
    if unknown:
        raise SettingsError(f"config file {path}: unknown key(s) in [alerts]: {', '.join(sorted(unknown))}; "
                            f"expected some of {', '.join(sorted(KEYS))}")
    return section


def _expand(value, env: dict[str, str], where: str):
    if isinstance(value, list):
        return [_expand(v, env, where) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        if m.group(1) not in env:
            raise SettingsError(f"{where} refers to ${{{m.group(1)}}}, which is not set in the environment")
        return env[m.group(1)]
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, value)


def _check(values: dict) -> AlertSettings:
    out: dict = {}
    for key, value in values.items():
        if key in LISTS:
            items = [value] if isinstance(value, str) else list(value)
            out[key] = tuple(str(x) for x in items)
        elif key in NUMBERS:
            try:
                out[key] = NUMBERS[key](value)
            except (TypeError, ValueError):
                raise SettingsError(f"alerts setting {key} = {value!r}: expected a number") from None
            if out[key] < 0:
                raise SettingsError(f"alerts setting {key} = {value!r}: expected a number >= 0")
        else:
            out[key] = str(value)
    s = replace(AlertSettings(), **out)
    bad = [k for k in s.kinds if k not in KINDS]
    if bad:
        raise SettingsError(f"alert kinds {', '.join(map(repr, bad))} unknown; expected some of {', '.join(KINDS)}")
    if s.min_severity not in SEVERITY_RANK:
        raise SettingsError(f"min_severity {s.min_severity!r}: expected one of {', '.join(SEVERITY_RANK)}")
    if s.smtp_security and s.smtp_security not in SECURITY:
        raise SettingsError(f"smtp_security {s.smtp_security!r}: expected one of {', '.join(SECURITY)}")
    if s.smtp and not re.fullmatch(r"[^\s:]+:\d{1,5}", s.smtp):
        raise SettingsError(f"smtp {s.smtp!r}: expected HOST:PORT, e.g. smtp.example.com:587")
    for address in (*s.email_to, s.sender):
        if not EMAIL.fullmatch(address):
            raise SettingsError(f"email address {address!r}: expected name@domain (one address per entry)")
    if s.email_to and not s.smtp:
        raise SettingsError("email recipients are set but no SMTP server: give --smtp HOST:PORT "
                            f"(or smtp in the config file, or {ENV_PREFIX}SMTP)")
    if s.base_url and not re.match(r"^https?://", s.base_url):
        raise SettingsError(f"base_url {s.base_url!r}: expected an http:// or https:// address")
    return s
