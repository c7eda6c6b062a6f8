"""Opening a lot: one function for `scan import`, `scan sane` and `scan watch`."""

from __future__ import annotations

import pytest

import scanner.station
from massicot_core.errors import UserError
from scanner.importing import open_lot
from scanner.lot import Lot
from testkit.lot import PAPER, journal, write_roll


def test_the_station_opens_its_lot_as_scan_import_does():
    assert scanner.station.open_lot is open_lot


def test_open_lot_makes_the_lot_then_replaces_a_changed_roll_with_who(tmp_path):
    roll = write_roll(tmp_path / "roll.csv", [("CAND001", True), ("CAND002", True)])
    lot = open_lot(tmp_path / "lot", " u3 ", roll, centre="0130040y", pages_per_copy=4, by="alice")
    info = lot.info()
    assert (info.paper, info.centre, info.pages_per_copy) == (PAPER, "0130040Y", 4)
    assert [line.candidate for line in info.roll] == ["CAND001", "CAND002"]
    open_lot(tmp_path / "lot", PAPER, roll, by="bob")
    assert journal(tmp_path / "lot", "roll") == []  # the same roll: nothing to record
    write_roll(roll, [("CAND001", True), ("CAND002", False)])
    open_lot(tmp_path / "lot", PAPER, roll, by="bob")
    [entry] = journal(tmp_path / "lot", "roll")
    assert entry["by"] == "bob" and [line["present"] for line in entry["lines"]] == [True, False]
    assert [line.present for line in Lot.open(tmp_path / "lot").state().info.roll] == [True, False]


def test_open_lot_refuses_bad_input_in_plain_words(tmp_path):
    roll = write_roll(tmp_path / "roll.csv", [("CAND001", True)])
    with pytest.raises(UserError, match="paper code printed on the booklets"):
        open_lot(tmp_path / "lot", "U 3!", roll)
    assert not (tmp_path / "lot").exists()  # refused before anything is written
    with pytest.raises(UserError, match="is for paper U3, not U4"):
        open_lot(tmp_path / "lot", PAPER, roll) and open_lot(tmp_path / "lot", "U4", roll)
    with pytest.raises(UserError, match="not a UAI"):
        open_lot(tmp_path / "other", PAPER, roll, centre="nowhere")
