"""The marking rules and saves, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from correction_server.marking import comments, reading, rules, saving
from correction_server.marking.saving import SaveRequest
from correction_server.models import CommentUse, Marking, QuestionMark, User
from testkit.worlds.marking import NOW, World, build_world


def save(factory, world: World, copy_id: str, user_id: int | None = None, now=NOW, **fields):
    with factory() as session:
        return saving.save(session, user_id or world.corrector_id, copy_id, SaveRequest(**fields), now=now)


# ---------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("maximum", "step", "typed", "ok"),
    [
        ("4", "0.5", "0", True),
        ("4", "0.5", "4", True),
        ("4", "0.5", "2,5", True),
        ("4", "0.5", "2.25", False),
        ("4", "1", "2.5", False),
        ("4", "0.5", "4.5", False),
        ("4", "0.5", "-0.5", False),
    ],
)
def test_points_in_range_and_step(maximum, step, typed, ok):
    question = rules.SchemeQuestion(1, 0, "Q1", Decimal(maximum), Decimal(step))
    if ok:
        assert rules.check_points(question, rules.parse_points(typed)) == Decimal(typed.replace(",", "."))
    else:
        with pytest.raises(rules.MarkingRefused, match="Q1"):
            rules.check_points(question, rules.parse_points(typed))


@pytest.mark.parametrize("typed", ["AB", "abc", "nan", "inf", "1e400x", ""])
def test_letters_are_never_a_mark(typed):
    with pytest.raises(rules.MarkingRefused, match="not a mark"):
        rules.parse_points(typed)


@pytest.mark.parametrize(
    ("total", "out_of", "expected"),
    [
        ("30", "60", "10"),
        ("31", "60", "10.5"),
        ("30.5", "60", "10"),
        ("7", "40", "3.5"),
        ("13.5", "20", "13.5"),
    ],
)
def test_conversion_to_20_in_half_points(total, out_of, expected):
    # 30.5/60*20 = 10.1666 -> nearest half 10; 31/60*20 = 10.333 -> 10.5; 7/40*20 = 3.5
    assert rules.convert_to_20(Decimal(total), Decimal(out_of)) == Decimal(expected)


def test_conversion_tie_goes_to_candidate():
    # 45/40*... : 11.25/... choose a total landing exactly on a quarter: 9/40*20 = 4.5; 9.5/40*20 = 4.75
    assert rules.convert_to_20(Decimal("9.5"), Decimal(40)) == Decimal("5")


# ---------------------------------------------------------------- saves


def test_marks_total_and_status(session_factory, world):
    q1, q2, q3 = world.question_ids
    copy = world.copies[0]
    state = save(session_factory, world, copy, version=0, marks={q1: "3,5", q2: "6"})
    assert state.version == 1
    assert state.status == "draft"
    assert state.total == Decimal("9.5")
    assert "Question 3" in state.missing and "appreciation" in state.missing
    state = save(session_factory, world, copy, version=1, marks={q3: "7.5"})
    assert state.status == "draft" and state.missing == ["appreciation"]
    assert state.mark_20 is None
    state = save(session_factory, world, copy, version=2, appreciation="Clear reasoning, careless sums.")
    assert state.status == "marked"
    assert state.total == Decimal("17") and state.mark_20 == Decimal("17")
    with session_factory() as session:
        row = session.scalar(select(Marking).where(Marking.copy_id == copy))
        assert row.status.value == "marked" and row.marked_at is not None and row.version == 3


def test_paper_not_out_of_20_is_converted(session_factory):
    world = build_world(session_factory, maxima=("20", "20", "20"))
    q1, q2, q3 = world.question_ids
    state = save(
        session_factory,
        world,
        world.copies[0],
        version=0,
        marks={q1: "10", q2: "10.5", q3: "11"},
        appreciation="Fair.",
    )
    assert state.total == Decimal("31.5")
    assert state.mark_20 == Decimal("10.5")  # 31.5/60*20 = 10.5


def test_clearing_a_mark_makes_the_copy_unmarked_again(session_factory, world):
    q1, q2, q3 = world.question_ids
    copy = world.copies[0]
    state = save(session_factory, world, copy, version=0, marks={q1: 1, q2: 2, q3: 3}, appreciation="Weak.")
    assert state.status == "marked"
    state = save(session_factory, world, copy, version=state.version, marks={q2: None})
    assert state.status == "draft" and state.marks == {q1: Decimal(1), q3: Decimal(3)}
    with session_factory() as session:
        assert session.scalar(select(Marking.marked_at).where(Marking.copy_id == copy)) is None


def test_out_of_range_mark_is_refused_and_nothing_saved(session_factory, world):
    q1, q2, _ = world.question_ids
    with pytest.raises(rules.MarkingRefused, match="outside 0 to 4"):
        save(session_factory, world, world.copies[0], version=0, marks={q2: "2", q1: "4.5"})
    with session_factory() as session:
        assert session.scalars(select(QuestionMark)).all() == []
        assert session.scalars(select(Marking)).all() == []


def test_unknown_question_is_refused(session_factory, world):
    with pytest.raises(rules.MarkingRefused, match="not in the barème"):
        save(session_factory, world, world.copies[0], version=0, marks={999999: "1"})


def test_ab_only_for_absent_copy_and_00_only_for_blank(session_factory, world):
    ok, blank, absent = world.copies[0], world.copies[3], world.copies[4]
    with pytest.raises(rules.MarkingRefused, match="AB is only for a copy recorded absent"):
        save(session_factory, world, ok, version=0, special="AB")
    with pytest.raises(rules.MarkingRefused, match="00 is only for a copy recorded blank"):
        save(session_factory, world, ok, version=0, special="00")
    with pytest.raises(rules.MarkingRefused, match="00 is only"):
        save(session_factory, world, absent, version=0, special="00")
    with pytest.raises(rules.MarkingRefused, match="recorded absent at the centre"):
        save(session_factory, world, absent, version=0, marks={world.question_ids[0]: "0"})
    with pytest.raises(rules.MarkingRefused, match="recorded blank at the centre"):
        save(session_factory, world, blank, version=0, marks={world.question_ids[0]: "0"})
    state = save(session_factory, world, absent, version=0, special="AB")
    assert state.status == "marked" and state.special == "AB" and state.total is None
    state = save(session_factory, world, blank, version=0, special="00")
    assert state.status == "marked" and state.special == "00" and state.mark_20 == Decimal(0)
    # Withdrawn on purpose: the copy is unmarked again.
    state = save(session_factory, world, blank, version=1, special="")
    assert state.status == "draft" and state.special is None


def test_a_copy_of_another_lot_is_refused_as_if_it_did_not_exist(session_factory, world):
    with pytest.raises(reading.NotYourCopy) as mine:
        save(session_factory, world, world.other_copy, version=0, marks={world.question_ids[0]: "1"})
    with pytest.raises(reading.NotYourCopy) as missing:
        save(session_factory, world, "NOSUCHCOPY", version=0, marks={world.question_ids[0]: "1"})
    assert str(mine.value).replace(world.other_copy, "X") == str(missing.value).replace("NOSUCHCOPY", "X")


# ---------------------------------------------------------------- window and barème lock


def test_marks_refused_before_the_barème_is_locked(session_factory):
    world = build_world(session_factory, locked=False)
    with pytest.raises(rules.MarkingClosed, match="réunion d'entente"):
        save(session_factory, world, world.copies[0], version=0, marks={world.question_ids[0]: "1"})


def test_marks_refused_outside_the_window(session_factory, world):
    q1 = world.question_ids[0]
    with pytest.raises(rules.MarkingClosed, match="opens on"):
        save(session_factory, world, world.copies[0], now=NOW - timedelta(days=5), version=0, marks={q1: 1})
    with pytest.raises(rules.MarkingClosed, match="closed on"):
        save(session_factory, world, world.copies[0], now=NOW + timedelta(days=11), version=0, marks={q1: 1})
    assert save(session_factory, world, world.copies[0], version=0, marks={q1: 1}).version == 1


def test_marks_refused_without_a_window(session_factory):
    world = build_world(session_factory, window=None)
    with pytest.raises(rules.MarkingClosed, match="has not set the correction window"):
        save(session_factory, world, world.copies[0], version=0, marks={world.question_ids[0]: "1"})


# ---------------------------------------------------------------- optimistic concurrency


def test_stale_save_is_refused_with_the_current_state(session_factory, world):
    q1, q2, _ = world.question_ids
    copy = world.copies[0]
    save(session_factory, world, copy, version=0, marks={q1: "2"})  # tab A
    with pytest.raises(saving.VersionConflict) as conflict:
        save(session_factory, world, copy, version=0, marks={q1: "3", q2: "1"})  # tab B, stale
    assert conflict.value.current.version == 1
    assert conflict.value.current.marks == {q1: Decimal(2)}
    with session_factory() as session:
        assert session.scalar(select(QuestionMark.points)) == Decimal(2)


def test_concurrent_saves_of_one_version_one_wins(session_factory, world):
    """Eight threads save on the same version at once: exactly one is accepted."""
    q1 = world.question_ids[0]
    copy = world.copies[1]
    save(session_factory, world, copy, version=0, marks={q1: "0"})
    barrier = threading.Barrier(8)
    results: list[str] = []

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            save(session_factory, world, copy, version=1, marks={q1: str(i * 0.5)})
            results.append(f"ok{i}")
        except saving.VersionConflict:
            results.append("conflict")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r.startswith("ok")]
    assert len(winners) == 1 and results.count("conflict") == 7
    with session_factory() as session:
        row = session.scalar(select(Marking).where(Marking.copy_id == copy))
        points = session.scalar(select(QuestionMark.points).where(QuestionMark.marking_id == row.id))
    assert row.version == 2
    assert points == Decimal(winners[0][2:]) * Decimal("0.5")


def test_concurrent_first_saves(session_factory, world):
    q1 = world.question_ids[0]
    copy = world.copies[2]
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            save(session_factory, world, copy, version=0, marks={q1: "1"})
            outcomes.append("ok")
        except saving.VersionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["ok"]


# ---------------------------------------------------------------- annotations and comments


def test_annotations_stored_as_data_and_replaced_per_page(session_factory, world):
    copy = world.copies[0]
    p1, p2 = world.pages[copy]
    layer = [
        {"id": "a1", "kind": "tick", "x": 0.5, "y": 0.2},
        {"id": "a2", "kind": "pen", "points": [[0.1, 0.1], [0.2, 0.25]]},
        {"id": "a3", "kind": "text", "x": 0.3, "y": 0.3, "text": "Units?"},
        {"id": "a4", "kind": "highlight", "x": 0.1, "y": 0.5, "w": 0.3, "h": 0.05},
        {"id": "a5", "kind": "cross", "x": 0.9, "y": 0.9},
    ]
    state = save(session_factory, world, copy, version=0, layers={p1: layer})
    assert [i["id"] for i in state.layers[p1]] == ["a1", "a2", "a3", "a4", "a5"]
    state = save(session_factory, world, copy, version=1, layers={p2: [layer[0]]})
    assert len(state.layers[p1]) == 5 and len(state.layers[p2]) == 1  # p1 untouched
    state = save(session_factory, world, copy, version=2, layers={p1: layer[:1]})  # undo = smaller layer
    assert [i["id"] for i in state.layers[p1]] == ["a1"]


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ({"id": "x", "kind": "tick", "x": 1.5, "y": 0.2}, "not valid"),
        ({"id": "x", "kind": "brush", "x": 0.5, "y": 0.2}, "not valid"),
        ({"id": "x", "kind": "text", "x": 0.5, "y": 0.2, "text": ""}, "not valid"),
        ({"id": "x y", "kind": "tick", "x": 0.5, "y": 0.2}, "not valid"),
    ],
)
def test_bad_annotation_is_refused(session_factory, world, item, words):
    copy = world.copies[0]
    with pytest.raises(rules.MarkingRefused, match=words):
        save(session_factory, world, copy, version=0, layers={world.pages[copy][0]: [item]})


def test_annotation_on_a_page_of_another_copy_is_refused(session_factory, world):
    with pytest.raises(rules.MarkingRefused, match="not a page of copy"):
        save(
            session_factory,
            world,
            world.copies[0],
            version=0,
            layers={world.pages[world.copies[1]][0]: [{"id": "a", "kind": "tick", "x": 0.1, "y": 0.1}]},
        )


def test_shared_comment_edit_reaches_every_use(session_factory, world):
    with session_factory() as session, session.begin():
        coordinator = session.get(User, world.coordinator_id)
        corrector = session.get(User, world.corrector_id)
        shared = comments.add(session, coordinator, world.paper_id, "Justify each step.", shared=True)
        own = comments.add(session, corrector, world.paper_id, "Good use of the theorem.")
        with pytest.raises(comments.CommentForbidden):
            comments.add(session, corrector, world.paper_id, "Everyone sees this", shared=True)
    for n, copy in enumerate(world.copies[:2]):
        page = world.pages[copy][0]
        save(
            session_factory,
            world,
            copy,
            version=0,
            comments=[shared.id, own.id],
            layers={page: [{"id": f"c{n}", "kind": "comment", "x": 0.4, "y": 0.4, "comment_id": shared.id}]},
        )
    with session_factory() as session, session.begin():
        coordinator = session.get(User, world.coordinator_id)
        corrector = session.get(User, world.corrector_id)
        with pytest.raises(comments.CommentForbidden):
            comments.edit(session, corrector, shared.id, "Changed by someone else")
        comments.edit(session, coordinator, shared.id, "Justify every step.")
        entries = {e.id: e for e in comments.bank(session, corrector, world.paper_id)}
        assert entries[shared.id].uses == 4 and entries[shared.id].shared
        texts = comments.texts(session, world.corrector_id, world.paper_id)
    assert texts[shared.id] == "Justify every step."
    with session_factory() as session:
        uses = session.scalars(select(CommentUse).where(CommentUse.comment_id == shared.id)).all()
        assert {u.comment.text for u in uses} == {"Justify every step."}
        assert len(uses) == 4


def test_someone_elses_private_comment_cannot_be_placed(session_factory, world):
    with session_factory() as session, session.begin():
        other = session.get(User, world.other_corrector_id)
        private = comments.add(session, other, world.paper_id, "Mine only.")
    with pytest.raises(rules.MarkingRefused, match="not in your comment bank"):
        save(session_factory, world, world.copies[0], version=0, comments=[private.id])


def test_retiring_a_used_comment_keeps_it_on_copies(session_factory, world):
    with session_factory() as session, session.begin():
        corrector = session.get(User, world.corrector_id)
        used = comments.add(session, corrector, world.paper_id, "Used once.")
        unused = comments.add(session, corrector, world.paper_id, "Never used.")
    save(session_factory, world, world.copies[0], version=0, comments=[used.id])
    with session_factory() as session, session.begin():
        corrector = session.get(User, world.corrector_id)
        assert comments.retire(session, corrector, unused.id) is None
        assert comments.retire(session, corrector, used.id).retired
        assert [e.id for e in comments.bank(session, corrector, world.paper_id)] == []
        assert comments.texts(session, corrector.id, world.paper_id) == {used.id: "Used once."}
    with session_factory() as session:
        state = reading.state_for(session, world.corrector_id, world.copies[0])
    assert state.comments == [used.id]
