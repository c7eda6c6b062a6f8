"""Why a dispatch is not possible, in the reader's language: French on the office page by
default, English on the command line and for a reader who chose English."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from correction_server.dispatch.planning import CopyToPlace, CorrectorSeat, DispatchImpossible, plan_dispatch
from correction_server.i18n import LANGUAGE_COOKIE
from testkit.worlds.dispatch import generate_session, populate


def _impossible() -> DispatchImpossible:
    copies = [CopyToPlace(f"K{i:04d}", "0130040Y", 7) for i in range(30)] + [
        CopyToPlace(f"N{i:04d}", "0130041Z", None) for i in range(3)
    ]
    seats = [CorrectorSeat(1, "Mme Martin", 7, 2)]
    with pytest.raises(DispatchImpossible) as caught:
        plan_dispatch(copies, seats, seed=1, establishment_names={7: "Lycée Thiers (0130007X)"})
    return caught.value


def test_the_reasons_are_english_on_the_command_line_and_french_when_asked(monkeypatch) -> None:
    monkeypatch.delenv("MASSICOT_LANG", raising=False)
    refused = _impossible()
    assert refused.reasons == refused.reasons_in("en")
    assert str(refused).startswith("Dispatch is not possible: ")
    assert str(refused).endswith(" Nothing was changed.")
    (english,) = refused.reasons_in("en")
    assert english.startswith("33 copies are waiting but the correctors' remaining declared capacity is 2")
    (french,) = refused.reasons_in("fr")
    assert french.startswith("33 copies attendent") and "capacité déclarée restante" in french
    assert refused.words("fr").startswith("Répartition impossible : 33 copies")
    assert refused.status == 409


def test_nested_words_follow_the_language() -> None:
    copies = [CopyToPlace(f"A{i:03d}", "C1", 1) for i in range(50)] + [
        CopyToPlace(f"B{i:03d}", "C2", None) for i in range(10)
    ]
    seats = [CorrectorSeat(1, "From A", 1, 100), CorrectorSeat(2, "From B", 2, 20)]
    with pytest.raises(DispatchImpossible) as caught:
        plan_dispatch(copies, seats, seed=1)  # no names: établissement 1 is named by its number
    (english,) = caught.value.reasons_in("en")
    assert english.startswith("30 copies of candidates from établissement #1 (30 from centre C1; e.g. A")
    (french,) = caught.value.reasons_in("fr")
    assert french.startswith("30 copies de candidats de l'établissement n° 1 (30 du centre C1 ; p. ex. A")


def test_the_office_page_says_why_in_the_readers_language(db_url: str, tmp_path: Path) -> None:
    from correction_server.db import make_engine, make_session_factory
    from testkit.worlds.office import office_client

    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    # The single corrector teaches where all candidates study.
    paper_id = populate(factory, generate_session(40, 1, n_centres=1, n_establishments=1, seed=1))
    with office_client(factory, db_url, tmp_path / "store") as (client, csrf):
        french = client.post(f"/office/dispatch/{paper_id}", data={"csrf_token": csrf, "seed": "1"})
        assert french.status_code == 409
        text = html.unescape(french.text)
        assert "Répartition impossible :" in text and "40 copies de candidats de l'établissement" in text
        assert "n'ont aucun correcteur possible" in text
        client.cookies.set(LANGUAGE_COOKIE, "en")
        english = client.post(f"/office/dispatch/{paper_id}", data={"csrf_token": csrf, "seed": "1"})
        assert english.status_code == 409
        assert "40 copies of candidates from" in html.unescape(english.text)
        assert "have no possible corrector" in english.text
    engine.dispose()
