"""The server's words: which language a reader gets, and every area's words in the catalogue.

The catalogue itself is massicot_core.words (French by default, English available). Each area
keeps its words in its own `words.py` (two dicts, `FR` and `EN`); `register_words()` puts them
all in the catalogue, called once by `create_app` and once by the command line. Templates call
`t("key")` (see `correction_server.web.rendering`); Python code `translate(lang, "key", **values)`.
tests/auth checks that every French key has an English translation.
"""

from __future__ import annotations

from massicot_core.words import (  # noqa: F401 - the server's pages take the catalogue from here
    CATALOGUE,
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    add_messages,
    translate,
)

LANGUAGE_COOKIE = "massicot_lang"


def pick_language(cookie_value: str | None, accept_language: str | None) -> str:
    """The language chosen with the switch (cookie), else French: the product's default."""
    if cookie_value in LANGUAGES:
        return cookie_value
    return DEFAULT_LANGUAGE


def register_words() -> None:
    """Every area's words into the catalogue; the application and the command line call it once."""
    from correction_server.auth import words as auth_words
    from correction_server.backup import words as backup_words
    from correction_server.candidate_space import words as candidate_words
    from correction_server.closing import jury_words
    from correction_server.closing import words as closing_words
    from correction_server.coordination import harmonisation_words, standardisation_words
    from correction_server.coordination import words as coordination_words
    from correction_server.dispatch import words as dispatch_words
    from correction_server.marking import flags_words as marking_flags_words
    from correction_server.marking import words as marking_words
    from correction_server.office import rules_words as office_rules_words
    from correction_server.office import words as office_words
    from correction_server.web import words as page_words

    for area in (
        page_words,
        auth_words,
        dispatch_words,
        marking_words,
        coordination_words,
        standardisation_words,
        closing_words,
        marking_flags_words,
        office_rules_words,
        candidate_words,
        jury_words,
        harmonisation_words,
        office_words,
        backup_words,
    ):
        # add_messages takes the same words twice without complaint: registering again is harmless.
        add_messages(fr=area.FR, en=area.EN)
