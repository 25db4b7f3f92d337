"""A settings file (TOML by its suffix, YAML otherwise) read the one way the warehouse settings
(dashboard.lake.settings) and the alert settings (dashboard.delivery.settings) both need."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml


def parse(path: Path, error: type[Exception]) -> object:
    """The file's content; a missing or unparsable file raises `error` naming the file and the reason."""
    if not path.exists():
        raise error(f"config file {path} does not exist")
    text = path.read_text()
    try:
        return tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise error(f"config file {path} is not valid {'TOML' if path.suffix == '.toml' else 'YAML'}: "
                    f"{exc}") from None
