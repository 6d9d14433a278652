"""The one message catalogue: every user-facing text, keyed by message id, one YAML file per language.

Missing translations fall back to German, so adding a language never breaks a dialog; a test
checks that every language has every key with the same placeholders.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Formatter
from typing import Any

import yaml

DEFAULT_LANGUAGE = "de"
# libyaml's safe loader when PyYAML has it (about ten times faster: start-up reads the bundled files)
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
LANGUAGES = ("de", "en")


@cache
def messages(language: str) -> dict[str, str]:
    path = resources.files("handlers") / "locales" / f"{language}.yaml"
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    if not isinstance(data, dict):
        raise ValueError(f"catalogue {language}.yaml is not a mapping")
    return {str(k): str(v).rstrip("\n") for k, v in data.items()}


def normalise_language(code: str | None) -> str:
    """Maps a client hint like 'en-GB' to a catalogue language, German otherwise."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def t(language: str, key: str, **params: Any) -> str:
    table = messages(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    template = table.get(key)
    if template is None:
        template = messages(DEFAULT_LANGUAGE)[key]
    return template.format(**params) if params else template


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}
