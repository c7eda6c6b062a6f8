"""Closing speaks through the words catalogue: a refusal is French by default and English on the
command line (the very sentence it always printed); pages show refusals and the reconciliation's
differences in the reader's language; every closing word has both languages."""

from __future__ import annotations

import re
import warnings
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from correction_server.app import create_app
from correction_server.audit import log as audit
from correction_server.auth import sessions as auth
from correction_server.closing import words as closing_words
from correction_server.closing.candidates import find_candidate
from correction_server.closing.publication import publish_results
from correction_server.closing.refusals import ClosingRefused, Listing, Phrase
from correction_server.db import make_engine, make_session_factory
from correction_server.i18n import LANGUAGE_COOKIE
from correction_server.models import User
from correction_server.settings import Settings
from massicot.cli import app as massicot_app
from massicot_core.words import DEFAULT_LANGUAGE
from testkit.worlds.coordination import build_world

OFFICE = audit.Actor(None, "office")
SECRET = "closing-words-secret"
CLOSING_SOURCE = Path(__file__).resolve().parents[2] / "correction_server" / "closing"


def test_every_french_word_of_closing_has_its_english_and_back():
    assert sorted(set(closing_words.FR) - set(closing_words.EN)) == []
    assert sorted(set(closing_words.EN) - set(closing_words.FR)) == []


def test_every_key_closing_says_is_in_its_words():
    said = set()
    for path in CLOSING_SOURCE.glob("*.py"):
        said |= set(re.findall(r'"(closing\.(?:err|diff|purge|pdf)\.[a-z_]+)"', path.read_text()))
    assert len(said) > 50
    assert sorted(said - set(closing_words.FR)) == []
    assert sorted(said - set(closing_words.EN)) == []


def test_a_refusal_of_a_service_is_french_by_default_and_the_command_lines_english(fresh_database):
    engine = make_engine(fresh_database("sqlite"))
    try:
        with make_session_factory(engine)() as session:
            with pytest.raises(ClosingRefused) as unknown:
                find_candidate(session, "zz404")
            with pytest.raises(ClosingRefused) as naive:
                publish_results(session, 1, datetime(2025, 7, 4, 12), OFFICE, "Office")
    finally:
        engine.dispose()
    refusal = unknown.value
    assert refusal.key == "closing.err.no_candidate"
    french = refusal.words(DEFAULT_LANGUAGE)
    assert french == "Aucun candidat n'a le numéro d'inscription « zz404 »."
    english = refusal.words("en")
    assert english == "No candidate has the registration number 'zz404'."
    assert str(refusal) == english  # what the command line prints
    assert "fuseau horaire" in naive.value.words(DEFAULT_LANGUAGE)
    assert naive.value.words("en") == str(naive.value) == "Give the publication time with its time zone."


def test_the_command_line_prints_the_english_sentence(fresh_database):
    url = fresh_database("sqlite")
    result = CliRunner().invoke(
        massicot_app, ["office", "hold", "--candidate", "ZZ404", "--reason", "x", "--by", "O", "--db", url]
    )
    assert isinstance(result.exception, ClosingRefused)
    assert str(result.exception) == "No candidate has the registration number 'ZZ404'."


def test_words_inside_a_refusal_are_said_in_the_same_language():
    difference = Phrase("closing.diff.no_copy")
    refusal = ClosingRefused(
        "closing.err.export_blocked",
        code="U3",
        n=1,
        first=Listing([Phrase("closing.err.blocker", {"who": "AB123", "problem": difference})]),
        more="",
    )
    assert "AB123 : inscrit, mais aucune copie n'a été reçue." in refusal.words("fr")
    assert str(refusal) == (
        "The marks of U3 cannot go to the jury yet: 1 line(s) are neither marked nor declared missing "
        "(AB123: registered, but no copy was received. Find the copy, or declare it missing with the "
        "reason.). See the reconciliation page or `massicot office reconcile`."
    )


def test_the_closing_pages_speak_the_readers_language(fresh_database, tmp_path):
    url = fresh_database("sqlite")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    world = build_world(factory, tmp_path, missing_every=31)
    with factory() as session:
        opened = auth.open_session(session, session.get(User, world.office_id), SECRET)
        session.commit()
    engine.dispose()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app = create_app(Settings(database_url=url, store_path=tmp_path / "store", secret_key=SECRET))
    with TestClient(app, base_url="http://testserver") as client:
        client.cookies.set(auth.SESSION_COOKIE, opened.cookie_value)
        html = {"accept": "text/html"}
        form = {"registration": "ZZ404", "reason": "procédure", "csrf_token": opened.csrf_token}
        page = client.post("/office/holds", data=form, headers=html)
        assert page.status_code == 409
        assert "Aucun candidat n'a le numéro d'inscription « ZZ404 »." in unescape(page.text)
        paper = client.get(f"/office/closing/papers/{world.paper_id}", headers=html)
        assert "inscrit, mais aucune copie n'a été reçue" in unescape(paper.text)
        client.cookies.set(LANGUAGE_COOKIE, "en")
        page = client.post("/office/holds", data=form, headers=html)
        assert page.status_code == 409
        assert "No candidate has the registration number 'ZZ404'." in unescape(page.text)
        paper = client.get(f"/office/closing/papers/{world.paper_id}", headers=html)
        assert "registered, but no copy was received" in unescape(paper.text)
