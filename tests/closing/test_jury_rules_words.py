"""The jury rules speak through the words catalogue: every key they say exists in French and in
English, and a refusal is French on a page and English on the command line."""

from __future__ import annotations

import re
from pathlib import Path

from correction_server.closing import jury_words
from correction_server.coordination import harmonisation_words
from massicot_core.words import translate

SERVER = Path(__file__).resolve().parents[2] / "correction_server"


def test_each_word_has_both_languages():
    for area in (jury_words, harmonisation_words):
        assert sorted(set(area.FR) ^ set(area.EN)) == []


def test_every_key_said_is_in_the_catalogue():
    sources = list(SERVER.glob("closing/*.py")) + list(SERVER.glob("coordination/*.py"))
    templates = list((SERVER / "web" / "templates").glob("*.html"))
    said = set()
    for path in sources + templates:
        text = path.read_text(encoding="utf-8")
        said |= set(re.findall(r'"((?:jury|harmonisation)\.[a-z_]+(?:\.[a-z_]+)*)"', text))
        said |= {f"harmonisation.err.{k}" for k in re.findall(r'HarmonisationRefused\(\s*"([a-z_]+)"', text)}
    # Prefixes a template completes (t("jury.meeting." ~ kind)) are checked below by their ends.
    said = {k for k in said if not k.endswith(("_", "."))}
    assert len(said) > 40
    known = set(jury_words.FR) | set(harmonisation_words.FR)
    assert sorted(said - known) == []
    assert {"jury.meeting.deliberation", "jury.meeting.reconvened"} <= known
    assert {f"harmonisation.kind_{k}" for k in ("corrector", "all", "copy")} <= known


def test_a_refusal_reads_in_both_languages():
    fr = translate("fr", "jury.err.only_raise", mark="9", standing="10", copy="X")
    en = translate("en", "jury.err.only_raise", mark="9", standing="10", copy="X")
    assert "ne peut que relever" in fr and "can only raise" in en
