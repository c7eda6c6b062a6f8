"""The coordination's refusals and its flag sentence speak the reader's language: French on a
page by default, English when asked for; the command line keeps its English sentences."""

from __future__ import annotations

from markupsafe import escape

from correction_server.coordination import standardisation_words
from correction_server.coordination import words as coordination_words
from correction_server.coordination.harmonisation import CorrectorMarks, distributions, flag_sentence
from correction_server.coordination.refusals import CoordinationRefused
from correction_server.coordination.statistics import CorrectorTest
from correction_server.i18n import LANGUAGE_COOKIE
from correction_server.marking import words as marking_words
from testkit.worlds.coordination import build_world, client_for, log_in


def test_every_french_word_of_marking_and_coordination_has_its_english():
    for area in (coordination_words, standardisation_words, marking_words):
        assert sorted(set(area.FR) - set(area.EN)) == [], area.__name__


def test_a_refusal_in_french_or_english_and_the_command_line_keeps_english():
    refused = CoordinationRefused("not_a_lot", lot=7)
    assert refused.words("fr") == "Le lot n° 7 n'est pas un lot de cette épreuve."
    assert refused.words("en") == "Lot #7 is not a lot of this paper."
    assert str(refused) == "Lot #7 is not a lot of this paper."
    typed = CoordinationRefused("not_a_mark_20", typed="21")
    assert typed.words("fr").startswith("« 21 » n'est pas une note")
    assert str(typed) == "'21' is not a mark: give 0 to 20 in whole or half points (e.g. 12,5)."


def _marks(n: int, mean: float, difference: float, p: float | None, flagged: bool) -> CorrectorMarks:
    test = CorrectorTest(1, n, mean, 2.0, difference, p, p, flagged, mean - 1, mean + 1)
    return CorrectorMarks(1, "Mme Martin", test, {}, [])


def test_the_flag_sentence_in_french_or_english():
    harsh = _marks(40, 9.04, -2.46, 0.0004, True)
    assert flag_sentence(harsh, 11.5, "fr") == (
        "Moyenne 9,0, soit 2,5 point(s) en dessous de l'ensemble (11,5) : un tirage au hasard ne donne "
        "un tel écart que moins d'une fois sur mille. À regarder."
    )
    assert flag_sentence(harsh, 11.5, "en") == (
        "Average 9.0, 2.5 point(s) below the pool (11.5): a random lot is this far off less than once "
        "in a thousand deals. Worth a look."
    )
    kind = _marks(40, 13.2, 1.7, 0.0123, True)
    assert "au-dessus de l'ensemble (11,5)" in flag_sentence(kind, 11.5, "fr")
    assert "dans environ 1,2% des cas" in flag_sentence(kind, 11.5, "fr")
    assert "about 1.2% of the time" in flag_sentence(kind, 11.5, "en")
    fair = _marks(40, 11.3, -0.2, 0.7, False)
    assert flag_sentence(fair, 11.5, "fr") == (
        "Moyenne 11,3 (en dessous de 0,2) : écart compatible avec le hasard des lots."
    )
    assert flag_sentence(fair, 11.5, "en") == (
        "Average 11.3 (0.2 below): within what the random make-up of lots explains."
    )
    few = _marks(3, 12.0, 0.5, None, False)
    assert flag_sentence(few, 11.5, "fr") == "Trop peu de copies notées (3) pour juger."
    # The command line (the `progress` command) keeps its English.
    assert flag_sentence(few, 11.5) == "Too few marked copies (3) to judge."


def test_the_coordinators_page_speaks_french_by_default_and_english_when_asked(
    db_url, session_factory, tmp_path
):
    world = build_world(session_factory, tmp_path)
    with session_factory() as session:
        dist = distributions(session, world.paper_id)
    with client_for(db_url, tmp_path / "store") as client:
        csrf = log_in(client, session_factory, world.coordinator_id)
        url = f"/coordination/papers/{world.paper_id}"
        html = {"accept": "text/html"}
        form = {"csrf_token": csrf, "to": str(min(world.correctors.values())), "lot_id": "999999"}
        refused = client.post(f"{url}/reassign", data=form, headers=html)
        assert refused.status_code == 409
        assert escape("Le lot n° 999999 n'est pas un lot de cette épreuve.") in refused.text
        page = client.get(url, headers=html)
        for c in dist.correctors:
            assert escape(flag_sentence(c, dist.result.pool_mean, "fr")) in page.text
        assert "bande grise" in page.text  # the chart's caption

        client.cookies.set(LANGUAGE_COOKIE, "en")
        refused = client.post(f"{url}/reassign", data=form, headers=html)
        assert refused.status_code == 409
        assert "Lot #999999 is not a lot of this paper." in refused.text
        page = client.get(url, headers=html)
        for c in dist.correctors:
            assert escape(flag_sentence(c, dist.result.pool_mean, "en")) in page.text
        assert "grey band" in page.text and "bande grise" not in page.text
