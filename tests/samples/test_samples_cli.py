"""`massicot scan simulate`, as the demo calls it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from testkit.samples.truth import Truth

MASSICOT = Path(sys.executable).parent / "massicot"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(MASSICOT), *args], capture_output=True, text=True, timeout=300)


def test_scan_simulate_writes_scans_and_truth(tmp_path: Path):
    roll = tmp_path / "roll.csv"
    roll.write_text("candidate,name,present\nA1234567,Dupont Jeanne,yes\nB7654321,Martin Éric,no\n")
    out = tmp_path / "scans"
    result = run(
        "scan",
        "simulate",
        "--paper",
        "U3",
        "--roll",
        str(roll),
        "--out",
        str(out),
        "--dpi",
        "200",
        "--defects",
        "upside_down=1,blank_verso=1",
        "--format",
        "pdf",
        "--format",
        "jpeg",
    )
    assert result.returncode == 0, result.stderr
    truth = Truth.load(out / "truth.json")
    assert len(truth.pages) == 2 * 4 + 1 and truth.dpi == 200
    assert sorted(p.name for p in out.iterdir()) == ["jpeg", "scan.pdf", "truth.json"]
    assert len(list((out / "jpeg").iterdir())) == 9


def test_scan_simulate_refuses_bad_input_in_one_line(tmp_path: Path):
    roll = tmp_path / "roll.csv"
    roll.write_text("candidate,name,present\nA1234567,Dupont Jeanne,yes\n")
    full = tmp_path / "full"
    full.mkdir()
    (full / "old.jpg").write_bytes(b"x")
    cases = [
        (["--defects", "jam"], "unknown defect"),
        (["--format", "gif"], "format"),
        (["--dpi", "123"], "dpi"),
        (["--paper", "bad code"], "paper"),
        (["--roll", str(tmp_path / "nope.csv")], "does not exist"),
        (["--out", str(full)], "not empty"),
    ]
    for extra, word in cases:
        args = {"--paper": "U3", "--roll": str(roll), "--out": str(tmp_path / "new")}
        rest = []
        for i in range(0, len(extra), 2):
            if extra[i] in args:
                args[extra[i]] = extra[i + 1]
            else:
                rest += extra[i : i + 2]
        flat = [x for kv in args.items() for x in kv] + rest
        result = run("scan", "simulate", *flat)
        assert result.returncode == 2, (extra, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and word in lines[0], (extra, result.stderr)
        assert not (tmp_path / "new").exists()
    assert [p.name for p in full.iterdir()] == ["old.jpg"]


def test_without_the_test_kit_simulate_and_demo_say_how_to_get_it(tmp_path: Path):
    roll = tmp_path / "roll.csv"
    roll.write_text("candidate,name,present\nA1234567,Dupont Jeanne,yes\n")
    # A station installed without the dev extra: the test kit cannot be imported.
    hidden = "import sys; sys.modules['testkit'] = None; from massicot.cli import main; main()"
    for args in (
        ["scan", "simulate", "--paper", "U3", "--roll", str(roll), "--out", str(tmp_path / "scans")],
        ["demo", "--dir", str(tmp_path / "demo"), "--no-serve"],
    ):
        result = subprocess.run(
            [sys.executable, "-c", hidden, *args], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 2, result.stderr
        assert "pip install -e .[dev]" in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / "scans").exists() and not (tmp_path / "demo").exists()
