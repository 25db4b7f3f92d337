"""Where the summaries are computed: engine settings from a config file or the environment.

Never from code, and never stored: only `redact(url)` reaches the database or the terminal.

Config file (TOML or YAML), given with `--config` or `$DASHBOARD_LAKE_CONFIG`:

    [engine]
    url = "spark"                      # duckdb (default) | spark | any Ibis URL:
                                       # postgres://user:${PGPASSWORD}@host:5432/db,
                                       # bigquery://project/dataset, snowflake://user@account/db/schema,
                                       # trino://user@host:8080/catalog/schema, clickhouse://host ...
    [spark]                            # passed to SparkSession.builder.config (url = "spark" only)
    "spark.master" = "local[2]"
    "spark.driver.memory" = "4g"

`${NAME}` in any value is replaced by the environment variable NAME, so a password lives in the
environment (`url = "snowflake://me:${SNOWFLAKE_PASSWORD}@acct/db/schema"`), not in the file.
Environment variables override the file: `DASHBOARD_ENGINE` (the url) and `DASHBOARD_SPARK_MASTER`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from dashboard import config_file

CONFIG_ENV = "DASHBOARD_LAKE_CONFIG"
ENGINE_ENV = "DASHBOARD_ENGINE"
SPARK_MASTER_ENV = "DASHBOARD_SPARK_MASTER"
SECRET_KEYS = re.compile(r"pass|secret|token|key|credential|auth", re.IGNORECASE)
DEFAULT_SPARK = {
    "spark.master": "local[2]",
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",  # timestamp -> day must not depend on the machine
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.showConsoleProgress": "false",
}


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class EngineSettings:
    url: str = "duckdb"
    spark: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.url.split(":", 1)[0].lower()

    def spark_conf(self) -> dict[str, str]:
        return {**DEFAULT_SPARK, **self.spark}

    def describe(self) -> str:
        """Safe to print or store."""
        if self.name == "spark":
            return f"spark ({self.spark_conf()['spark.master']})"
        return redact(self.url)


def load(config: Path | None = None, engine: str | None = None,
         environ: dict[str, str] | None = None) -> EngineSettings:
    """Settings from (lowest first) defaults, the config file, the environment, `--engine`."""
    env = dict(os.environ if environ is None else environ)
    path = config or (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
    data = _read_config(path) if path else {}
    url = str(data.get("engine", {}).get("url", "duckdb"))
    spark = {str(k): str(v) for k, v in (data.get("spark") or {}).items()}
    url = env.get(ENGINE_ENV) or url
    if env.get(SPARK_MASTER_ENV):
        spark["spark.master"] = env[SPARK_MASTER_ENV]
    url = engine or url
    return EngineSettings(_expand(url, env, "engine.url"),
                          {k: _expand(v, env, f"spark.{k}") for k, v in spark.items()})


def _read_config(path: Path) -> dict:
    data = config_file.parse(path, SettingsError)
    if not isinstance(data, dict):
        raise SettingsError(f"config file {path}: expected sections [engine] and [spark], got {type(data).__name__}")
    unknown = set(data) - {"engine", "spark"}
    if unknown:
        raise SettingsError(f"config file {path}: unknown section(s) {', '.join(sorted(unknown))}; "
                            "expected [engine] and [spark]")
    return data


def _expand(value: str, env: dict[str, str], where: str) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) not in env:
            raise SettingsError(f"{where} refers to ${{{m.group(1)}}}, which is not set in the environment")
        return env[m.group(1)]
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, value)


def scrub(text: str, url: str) -> str:
    """`text` (a driver's error message) with the URL's password and secret query values as ***,
    should the driver have echoed them."""
    parts = urlsplit(url) if "://" in url else None
    if parts is None:
        return text
    secrets = [v for k, v in parse_qsl(parts.query) if SECRET_KEYS.search(k)]
    if parts.password:
        secrets += [parts.password, unquote(parts.password)]
    text = text.replace(url, redact(url))
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def redact(url: str) -> str:
    """The URL with its password and secret-looking query values replaced by ***."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = (user.split(":", 1)[0] + ":***" if ":" in user else user) + "@" + host
    query = urlencode([(k, "***" if SECRET_KEYS.search(k) else v) for k, v in parse_qsl(parts.query)])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
