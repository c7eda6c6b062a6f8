"""The station against SANE's real `test` device: a full pile with jams, an open cover, an empty feeder."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from scanner.sane_device import (
    choose_device,
    device_options,
    list_devices,
    load_profile,
    parse_device_options,
    profile_names,
    settings_for,
)
from testkit.station import journal_entries, report_of, run_cli, write_roll
from testkit.tmpfs import remount, tmpfs

# The suite's own watchdog: a backend stuck in spite of the station's fails its one test within
# two minutes instead of stalling the run (pytest-timeout, pinned in the dev extra).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
# The station's watchdog, short for the tests: a test page at 75-150 dpi takes well under a second.
TEST_STALL_SECONDS = "15"


def _sane(lot: Path, roll: Path, *extra: str, stdin: str = "", env: dict | None = None):
    return run_cli(
        "scan",
        "sane",
        "--paper",
        "U3",
        "--roll",
        str(roll),
        "--lot",
        str(lot),
        "--device",
        "test:0",
        "--dpi",
        "75",
        "--stall-seconds",
        TEST_STALL_SECONDS,
        *extra,
        stdin=stdin,
        env=env,
        timeout=100,
    )


def _assert_every_page_once(lot: Path, expected_pages: int) -> dict:
    """Every page received is in the lot once, whole, and in the report exactly once."""
    received = journal_entries(lot, "received")
    assert len(received) == expected_pages
    keys = Counter(e["key"] for e in received)
    assert max(keys.values()) == 1
    for entry in received:
        data = (lot / entry["original"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert data.endswith(b"\xff\xd9"), "a page was kept half written"
    report = report_of(lot)
    in_report = Counter(u["source"] for u in report["unassigned"])
    in_report.update(p["source"] for c in report["copies"] for p in c["pages"])
    assert sorted(in_report) == sorted(e["source"] for e in received)
    assert max(in_report.values()) == 1
    # test patterns carry no code: each is reported as a page without a code
    uncoded = Counter(a["source"] for a in report["anomalies"] if a["kind"] == "uncoded_page")
    assert set(uncoded) == {e["source"] for e in received}
    assert not list((lot / "spool").glob("*")), "pages left behind in the spool"
    return report


def test_devices_lists_the_test_device(sane_test_device):
    assert sane_test_device in [d.name for d in list_devices()]
    done = run_cli("scan", "devices")
    assert done.returncode == 0, done.stderr
    assert "test:0" in done.stdout and "sane-test" in done.stdout


def test_device_options_are_read_from_the_device(sane_test_device):
    options = device_options(choose_device(sane_test_device))
    assert "Automatic Document Feeder" in options["--source"].choices
    assert options["--resolution"].low == 1 and options["--resolution"].high == 1200
    assert options["-x"].high == 200
    assert not options["--three-pass"].active


def test_every_profile_loads_and_the_test_profile_fits_the_device(sane_test_device):
    names = profile_names()
    assert {"fujitsu-fi", "canon-dr", "kodak", "brother", "sane-test", "generic"} <= set(names)
    for name in names:
        assert load_profile(name).source_front
    device = choose_device(sane_test_device)
    settings = settings_for(device, load_profile("sane-test"), device_options(device), dpi=150)
    args = settings.args
    assert args[args.index("--source") + 1] == "Automatic Document Feeder"
    assert args[args.index("--mode") + 1] == "Gray"
    assert args[args.index("-x") + 1] == "200"  # A4 asked, the device's 200 mm taken
    assert "--test-picture=Grid" in args


def test_a_profile_the_device_does_not_fit_is_refused_in_plain_words(sane_test_device):
    from massicot_core.errors import UserError

    device = choose_device(sane_test_device)
    with pytest.raises(UserError, match="offers no feeder source among ADF Front.*it offers: Flatbed"):
        settings_for(device, load_profile("fujitsu-fi"), device_options(device))
    with pytest.raises(UserError, match="no duplex source"):
        settings_for(device, load_profile("sane-test"), device_options(device), duplex=True)


def test_option_listing_parser_reads_lists_ranges_and_booleans():
    text = (
        "    --source ADF Front|ADF Back|ADF Duplex [ADF Front]\n"
        "    --resolution 75|150|300|600dpi [300]\n"
        "    --df-thickness[=(yes|no)] [no]\n"
        "    -x 0..215.872mm [215.872]\n"
        "    --swskip 0..100% (in steps of 1) [inactive]\n"
    )
    options = parse_device_options(text)
    assert options["--source"].choices == ["ADF Front", "ADF Back", "ADF Duplex"]
    assert options["--resolution"].choices == ["75", "150", "300", "600"]
    assert options["--df-thickness"].choices == ["yes", "no"]
    assert options["-x"].high == pytest.approx(215.872)
    assert options["--swskip"].active is False


def test_full_pile_with_jam_cover_open_and_empty_feeder(sane_test_device, tmp_path):
    """3 pages then a jam, 2 pages then the cover open, an empty feeder, then a full load of 10."""
    roll = write_roll(tmp_path / "roll.csv")
    lot = tmp_path / "lot"
    done = _sane(lot, roll, "--test-faults", "jammed@3,cover_open@2,no_docs@0", stdin="\n\n\nend\n")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "remove the jammed sheet, put it back on top of the pile" in out
    assert "cover is open. Close it" in out
    assert out.count("Feeder empty. Load the next sheets") == 2
    assert "Traceback" not in out + done.stderr
    report = _assert_every_page_once(lot, expected_pages=3 + 2 + 0 + 10)
    assert report["copies"] == [] or all(c["pages"] == [] for c in report["copies"])
    assert "registered 6" in out and "copies found 0" in out

    # the same command again: nothing is added twice, new sheets are added
    again = _sane(lot, roll, stdin="end\n")
    assert again.returncode == 0, again.stdout + again.stderr
    _assert_every_page_once(lot, expected_pages=15 + 10)


def test_device_busy_stops_in_plain_words_and_keeps_the_pages(sane_test_device, tmp_path):
    roll = write_roll(tmp_path / "roll.csv")
    lot = tmp_path / "lot"
    # A loaded machine may take longer than the default 15 s watchdog to start the next
    # scanimage; this test is about the busy device, not the watchdog (tested below).
    done = _sane(lot, roll, "--test-faults", "device_busy@4", "--stall-seconds", "90")
    assert done.returncode == 2
    assert "being used by another program" in done.stderr
    assert "the 4 pages received in this session are kept" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    _assert_every_page_once(lot, expected_pages=4)


def test_io_error_stops_in_plain_words(sane_test_device, tmp_path):
    roll = write_roll(tmp_path / "roll.csv")
    done = _sane(tmp_path / "lot", roll, "--test-faults", "io_error@1")
    assert done.returncode == 2
    assert "stopped talking to the computer" in done.stderr
    _assert_every_page_once(tmp_path / "lot", expected_pages=1)


def test_a_backend_that_stops_answering_is_stopped_and_the_pages_are_kept(sane_test_device, tmp_path):
    """2 pages, then the backend freezes in the middle of the third (SIGSTOP: no page, no status,
    no exit, as a driver deadlocked in a futex wait): the watchdog stops scanimage after
    --stall-seconds (SIGTERM, then SIGKILL, which a frozen process cannot ignore), keeps the 2 pages
    and says what to do. Without the watchdog the run never ends and run_cli's timeout fails it."""
    import signal
    import sys
    import time

    roll = write_roll(tmp_path / "roll.csv")
    lot = tmp_path / "lot"
    command = [
        str(Path(sys.executable).with_name("massicot")),
        "scan", "sane", "--paper", "U3", "--roll", str(roll), "--lot", str(lot), "--device", "test:0",
        "--dpi", "75", "--stall-seconds", "3", "--test-faults", "slow@2", "--quiet",
    ]  # fmt: skip
    station = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    frozen = None
    try:
        for _ in range(600):  # the slow sheet's scanimage, found by its options and its lot
            found = subprocess.run(["pgrep", "-f", "read-delay=yes"], capture_output=True, text=True).stdout
            pids = [int(p) for p in found.split() if _cmdline_has(int(p), str(lot), "read-delay=yes")]
            if pids:
                frozen = pids[0]
                os.kill(frozen, signal.SIGSTOP)
                break
            time.sleep(0.05)
        assert frozen is not None, "the slow sheet was never started"
        out, err = station.communicate(timeout=90)
    finally:  # a failed run leaves nothing behind
        for pid in (frozen, station.pid):
            if pid and Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
        station.wait()
    out, err = out.decode(), err.decode()
    assert station.returncode == 2, out + err
    assert "stopped talking to the computer" in err
    assert "Switch the scanner off and on" in err
    assert "the 2 pages received in this session are kept" in err
    assert "Traceback" not in out + err
    assert not Path(f"/proc/{frozen}").exists(), "the frozen scanimage is still there"
    _assert_every_page_once(lot, expected_pages=2)
    # switched off and on: the same command goes on with the next sheets
    again = _sane(lot, roll, stdin="end\n")
    assert again.returncode == 0, again.stdout + again.stderr
    _assert_every_page_once(lot, expected_pages=2 + 10)


def _cmdline_has(pid: int, *words: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return all(w in cmdline for w in words)


def test_no_scanner_found(tmp_path):
    config = tmp_path / "sane.d"
    config.mkdir()
    (config / "dll.conf").write_text("# no backend\n")
    env = {"SANE_CONFIG_DIR": str(config)}
    roll = write_roll(tmp_path / "roll.csv")
    for args in (
        ("scan", "devices"),
        ("scan", "sane", "--paper", "U3", "--roll", str(roll), "--lot", str(tmp_path / "lot")),
    ):
        done = run_cli(*args, env=env)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "no scanner found" in done.stderr and "switched on and plugged in" in done.stderr
        assert "Traceback" not in done.stderr


def test_unknown_device_name(sane_test_device, tmp_path):
    roll = write_roll(tmp_path / "roll.csv")
    done = run_cli(
        "scan",
        "sane",
        "--paper",
        "U3",
        "--roll",
        str(roll),
        "--lot",
        str(tmp_path / "lot"),
        "--device",
        "fujitsu:fi-7160:1",
    )
    assert done.returncode == 2
    assert "no scanner named 'fujitsu:fi-7160:1' is connected; scanners found: test:0" in done.stderr


@pytest.mark.parametrize(
    ("paper", "roll_text", "words"),
    [
        ("U3 !", "candidate,name,present\nC1000,A,yes\n", "paper code"),
        ("U3", "nom;prenom\nDupont;Marie\n", "the first line must name the columns"),
        ("U3", "candidate,name,present\nC1000,A,maybe\n", "'present' must be yes or no"),
    ],
)
def test_bad_paper_code_or_roll_is_refused_before_scanning(
    sane_test_device, tmp_path, paper, roll_text, words
):
    roll = tmp_path / "roll.csv"
    roll.write_text(roll_text)
    lot = tmp_path / "lot"
    done = run_cli(
        "scan", "sane", "--paper", paper, "--roll", str(roll), "--lot", str(lot), "--device", "test:0"
    )
    assert done.returncode == 2
    assert words in done.stderr
    assert "Traceback" not in done.stderr
    assert not (lot / "journal.jsonl").exists()


def test_lot_folder_not_writable(sane_test_device, tmp_path):
    roll = write_roll(tmp_path / "roll.csv")
    with tmpfs(tmp_path / "readonly", "1m", readonly=True) as folder:
        done = _sane(folder / "lot", roll)
        assert done.returncode == 2
        assert "cannot create the lot folder" in done.stderr
        assert "Traceback" not in done.stderr
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = _sane(blocker, roll)
    assert done.returncode == 2 and "not a folder" in done.stderr


def test_disk_full_mid_scan_keeps_every_page_received(sane_test_device, tmp_path):
    """The lot's disk fills up during the second feed; after freeing space the same command finishes."""
    roll = write_roll(tmp_path / "roll.csv")
    with tmpfs(tmp_path / "disk", "420k") as disk:
        lot = disk / "lot"
        done = _sane(lot, roll, stdin="\n\n\nend\n")
        assert done.returncode == 2, done.stdout + done.stderr
        assert "is full" in done.stderr and "pages received in this session are kept" in done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        kept = len(journal_entries(lot, "received"))
        assert 0 < kept < 30
        for entry in journal_entries(lot, "received"):  # every page kept is whole
            data = (lot / entry["original"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        remount(disk, "64m")
        again = _sane(lot, roll, stdin="end\n")
        assert again.returncode == 0, again.stdout + again.stderr
        total = len(journal_entries(lot, "received"))
        assert total >= kept + 10
        _assert_every_page_once(lot, expected_pages=total)
        from scanner.lot import Lot

        errors = [r.error for r in Lot.open(lot).state().pages.values() if r.analysis is None]
        assert errors == [], "a page's analysis was lost to the full disk"


def test_a_station_killed_leaves_finished_pages_in_the_spool_and_they_are_taken_next_time(
    sane_test_device, tmp_path
):
    """Pages scanimage finished but the station had not received yet are received first on restart."""
    import shutil
    import subprocess

    roll = write_roll(tmp_path / "roll.csv")
    lot = tmp_path / "lot"
    first = _sane(lot, roll, stdin="end\n")
    assert first.returncode == 0
    spool = lot / "spool"
    # as a killed station leaves it: two finished pages and one half-written
    scan = subprocess.run(
        [
            "scanimage",
            "-d",
            "test:0",
            "--source",
            "Automatic Document Feeder",
            "--resolution",
            "75",
            "--test-picture",
            "Grid",
            "--format=jpeg",
            f"--batch={spool}/sane-old-%05d.jpg",
            "--batch-count=2",
        ],
        capture_output=True,
        check=True,
    )
    assert scan.returncode == 0
    shutil.copy(spool / "sane-old-00001.jpg", spool / "sane-old-00003.jpg.part")
    again = _sane(lot, roll, stdin="end\n")
    assert again.returncode == 0, again.stdout + again.stderr
    sources = [e["source"] for e in journal_entries(lot, "received")]
    assert "sane-old-00001.jpg#0" in sources and "sane-old-00002.jpg#0" in sources
    assert not any("00003" in s and "old" in s for s in sources)
    _assert_every_page_once(lot, expected_pages=10 + 2 + 10)
    assert os.listdir(spool) == []


def test_sane_station_killed_at_random_points_keeps_every_page_once(sane_test_device, tmp_path):
    """`kill -9` of `massicot scan sane` anywhere: each rerun resumes, no page lost half-way or doubled.

    The test device fills its feeder with 10 fresh sheets for every run; what must hold is that
    every page the lot says it received is whole and in the report exactly once, and that pages
    scanimage had finished when the station died are received by the next run, not lost.
    """
    import random
    import signal
    import subprocess
    import sys
    import time

    roll = write_roll(tmp_path / "roll.csv")
    lot = tmp_path / "lot"
    command = [
        str(Path(sys.executable).with_name("massicot")),
        "scan",
        "sane",
        "--paper",
        "U3",
        "--roll",
        str(roll),
        "--lot",
        str(lot),
        "--device",
        "test:0",
        "--dpi",
        "150",
        "--quiet",
    ]
    rng = random.Random(5)
    kills = 0
    for _ in range(22):
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        process.stdin.write(b"\n\nend\n")
        process.stdin.flush()
        time.sleep(rng.uniform(0.2, 3.0))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
        process.stderr.close()
        process.stdin.close()
    assert kills >= 20, f"only {kills} runs were still going when killed"
    final = _sane(lot, roll, stdin="end\n")
    assert final.returncode == 0, final.stdout + final.stderr
    total = len(journal_entries(lot, "received"))
    assert total >= 10
    _assert_every_page_once(lot, expected_pages=total)
    from scanner.lot import Lot

    assert all(r.analysis is not None for r in Lot.open(lot).state().pages.values())
