"""The words catalogue: every sentence a user reads, by key, in French (default) and English.

A small catalogue, not gettext: a key → text per language. Each area keeps its words beside
its code (`words.py`) and registers them once; templates call `t("key")`, Python code
`translate(lang, "key", **values)`.

A key missing in English falls back to French; a key missing everywhere shows as the key
itself, so a forgotten word is visible rather than an error.
"""

from __future__ import annotations

import os

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
# The command line has always spoken English to the office's scripts and logs; MASSICOT_LANG
# chooses another catalogue language for it.
COMMAND_LINE_LANGUAGE = "en"

CATALOGUE: dict[str, dict[str, str]] = {"fr": {}, "en": {}}


def add_messages(*, fr: dict[str, str], en: dict[str, str]) -> None:
    """Register words of one area. A key registered twice with another text is a mistake."""
    for lang, messages in (("fr", fr), ("en", en)):
        for key, text in messages.items():
            previous = CATALOGUE[lang].get(key)
            if previous is not None and previous != text:
                raise ValueError(f"words key {key!r} ({lang}) is already defined as {previous!r}")
            CATALOGUE[lang][key] = text


def translate(lang: str, key: str, **values: object) -> str:
    text = CATALOGUE.get(lang, {}).get(key) or CATALOGUE[DEFAULT_LANGUAGE].get(key) or key
    return text.format(**values) if values else text


def command_line_language() -> str:
    chosen = os.environ.get("MASSICOT_LANG", "").strip().lower()[:2]
    return chosen if chosen in LANGUAGES else COMMAND_LINE_LANGUAGE
