"""The demo: a whole exam evening and its correction, on SQLite and a local folder.

Every step runs the real `massicot` command a user would type, printed before it runs,
so the demo doubles as a walk-through. The folder holds everything:

    DIR/office/      the office's database and page store (the correction server's data)
    DIR/<UAI>/       one scan station per centre: roll, printed PDFs, scans, the sealed lot
"""

from __future__ import annotations

import csv
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import yaml
from rich.console import Console
from rich.panel import Panel

from massicot_core.errors import UserError
from scanner.sample_kit import require_test_kit

SAMPLES = Path(__file__).parent / "samples"
MARKER = ".massicot-demo"
PAPER = "U3"
# Which candidates of each centre did not come (by position in the roll), and the evening's mishaps.
ABSENT_POSITIONS = (3, 11)
CENTRE_DEFECTS = "upside_down=2,skew=4,blank_verso=3"

console = Console(highlight=False)


@dataclass
class Demo:
    root: Path
    env: dict[str, str]

    def massicot(self, *args: str, cwd: Path | None = None, capture: bool = False) -> str:
        shown = " ".join(shlex.quote(a) for a in ("massicot", *args))
        console.print(f"[bold cyan]$ {shown}[/]")
        result = subprocess.run(
            [sys.executable, "-m", "massicot", *args],
            cwd=cwd or self.root,
            env=self.env,
            text=True,
            capture_output=True,
        )
        output = (result.stdout + result.stderr).rstrip()
        if output and not capture:
            console.print(output, markup=False)
        if result.returncode != 0:
            if capture:
                console.print(output, markup=False)
            raise UserError(f"the demo step `{shown}` failed (exit {result.returncode}); see above")
        return result.stdout


def _fresh_folder(root: Path) -> None:
    """Start from nothing, but never delete a folder the demo did not make."""
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise UserError(f"{root} exists and is not a demo folder: choose another --dir")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("made by `massicot demo`; deleted by the next run\n")


def _paper_file(root: Path) -> Path:
    """The sample paper, with a correction window open now so the demo corrector can mark."""
    paper = yaml.safe_load((SAMPLES / "paper_u3.yaml").read_text(encoding="utf-8"))
    now = datetime.now(UTC).replace(microsecond=0)
    paper["window_opens"] = (now - timedelta(days=1)).isoformat()
    paper["window_closes"] = (now + timedelta(days=14)).isoformat()
    path = root / "office" / "paper_u3.yaml"
    path.write_text(yaml.safe_dump(paper, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _centres() -> list[str]:
    with (SAMPLES / "candidates.csv").open(encoding="utf-8") as f:
        return sorted({row["centre_uai"] for row in csv.DictReader(f)})


def _mark_absences(roll: Path) -> None:
    """What the centre does after the paper: the signing sheet says who was absent."""
    reader = csv.DictReader(roll.open(encoding="utf-8"))
    rows = list(reader)
    for position in ABSENT_POSITIONS:
        if position < len(rows):
            rows[position]["present"] = "no"
    with roll.open("w", encoding="utf-8", newline="") as f:
        # Every column the office wrote (room, table, deadline…) goes back as it came.
        writer = csv.DictWriter(f, fieldnames=list(reader.fieldnames or []), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _resolve_like_an_operator(demo: Demo, station: Path) -> None:
    """The decisions a secretary takes with the sheets in hand, read from the report.

    ABSENT booklets (the candidate's label on a booklet marked ABSENT) and blank copies need
    none: the scan reads them from their pages and the report says so."""
    report = json.loads(demo.massicot("scan", "report", "lot", "--json", cwd=station, capture=True))
    for anomaly in report["anomalies"]:
        if anomaly["kind"] == "uncoded_page" and anomaly["source"]:
            demo.massicot(
                "scan",
                "resolve",
                "confirm-annex",
                "lot",
                anomaly["source"],
                "--by",
                "secretariat",
                cwd=station,
            )


def _scan_centre(demo: Demo, uai: str) -> Path:
    station = demo.root / uai
    station.mkdir()
    console.rule(f"Centre {uai}: the evening of the paper")
    demo.massicot("office", "roll", "--paper", PAPER, "--centre", uai, "--out", str(station / "roll.csv"))
    demo.massicot(
        "print", "labels", "--paper", PAPER, "--roll", "roll.csv", "--out", "labels.pdf", cwd=station
    )
    demo.massicot(
        "print", "roll", "--paper", PAPER, "--roll", "roll.csv", "--out", "signing-sheet.pdf", cwd=station
    )
    _mark_absences(station / "roll.csv")
    console.print("[dim]The candidates write; the secretary feeds the pile to the scanner…[/]")
    demo.massicot(
        "scan", "simulate", "--paper", PAPER, "--roll", "roll.csv", "--out", "scans",
        "--format", "pdf", "--defects", CENTRE_DEFECTS, "--seed", uai[:7], cwd=station,
    )  # fmt: skip
    demo.massicot(
        "scan", "import", "scans/scan.pdf", "--paper", PAPER, "--roll", "roll.csv",
        "--lot", "lot", "--centre", uai, "--quiet", cwd=station,
    )  # fmt: skip
    demo.massicot("scan", "report", "lot", cwd=station)
    _resolve_like_an_operator(demo, station)
    demo.massicot("scan", "seal", "lot", "--by", "secretariat", cwd=station)
    demo.massicot("scan", "verify", "lot", cwd=station)
    return station


def _start_server(demo: Demo, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "massicot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    console.print(f"[bold cyan]$ massicot serve --port {port}[/]  (in the background)")
    log = (demo.root / "office" / "server.log").open("w")
    server = subprocess.Popen(command, cwd=demo.root, env=demo.env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise UserError(f"the server stopped at start; see {log.name}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.3)
    server.kill()
    raise UserError(f"the server did not answer within a minute; see {log.name}")


def _push(demo: Demo, station: Path, uai: str, server_url: str) -> None:
    token = demo.massicot("office", "centre-token", uai, capture=True).strip().splitlines()[0]
    token_file = station / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    demo.massicot("push", "lot", "--server", server_url, "--token-file", "token", cwd=station)


def _accounts(demo: Demo) -> dict[str, tuple[str, str]]:
    """Import the sample accounts and keep the passwords shown once, for the summary."""
    output = demo.massicot("office", "users", "import", str(SAMPLES / "users.csv"), capture=True)
    passwords = {}
    for line in output.splitlines():
        parts = line.strip().split("\t")
        if len(parts) == 3 and "@" in parts[0]:
            passwords[parts[0]] = (parts[1], parts[2])
    console.print(f"{len(passwords)} accounts created (passwords below).")
    return passwords


def run_demo(root: Path, serve: bool = True, port: int | None = None) -> None:
    # Each centre's scans come from `massicot scan simulate`: say so before anything is made.
    require_test_kit("massicot demo")
    root = root.resolve()
    _fresh_folder(root)
    (root / "office").mkdir()
    env = dict(os.environ, MASSICOT_DATA=str(root / "office"), PYTHONUNBUFFERED="1")
    env.pop("MASSICOT_DB", None)
    demo = Demo(root=root, env=env)
    started = time.monotonic()

    console.rule("The exam office prepares the session")
    demo.massicot("office", "import", "paper", str(_paper_file(root)))
    demo.massicot("office", "import", "candidates", str(SAMPLES / "candidates.csv"))
    demo.massicot("template", "show")

    stations = {uai: _scan_centre(demo, uai) for uai in _centres()}

    console.rule("The correction server receives the sealed lots")
    port = port or _free_port()
    server_url = f"http://127.0.0.1:{port}"
    server = _start_server(demo, port)
    try:
        for uai, station in stations.items():
            _push(demo, station, uai, server_url)
        console.rule("The office dispatches the copies; the coordinator locks the barème")
        passwords = _accounts(demo)
        demo.massicot("office", "dispatch", "--paper", PAPER, "--seed", "2024")
        demo.massicot("office", "lock-scheme", "--paper", PAPER)
        _correction(demo)
        demo.massicot("audit", "verify")
        _summary(root, server_url, passwords, time.monotonic() - started)
        if serve:
            console.print("The server keeps running for you to log in; Ctrl-C stops it.")
            server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def _correction(demo: Demo) -> None:
    from correction_server.db import sqlite_url
    from massicot.demo_marking import mark_every_copy

    console.rule("The correctors mark; the coordinator watches; the office closes")
    console.print("[dim]Simulated correctors mark every copy through the marking service…[/]")
    marked = mark_every_copy(sqlite_url(demo.root / "office"))
    console.print(f"{marked} copies marked.")
    demo.massicot("office", "progress", "--paper", PAPER)
    demo.massicot("office", "reconcile", "--paper", PAPER)
    demo.massicot(
        "office",
        "harmonisation-meeting",
        "--paper",
        PAPER,
        "--on",
        date.today().isoformat(),
        "--attendees",
        "coordinator, correctors",
        "--minutes",
        "Marks reviewed; no change.",
        "--by",
        "coordinator",
    )
    demo.massicot("office", "export", "--paper", PAPER, "--out", "office/marks.csv")
    demo.massicot("office", "export", "--paper", PAPER, "--out", "office/marks.xlsx")
    demo.massicot("office", "payment", "--out", "office/payment.csv")


def _summary(root: Path, server_url: str, passwords: dict[str, tuple[str, str]], seconds: float) -> None:
    lines = [
        f"Demo built in {seconds:.0f} s in {root}",
        f"Marks for the jury: {root / 'office' / 'marks.csv'} (and .xlsx); payment: office/payment.csv",
        "",
        f"Open {server_url}/login and log in as:",
    ]
    for login, (role, password) in passwords.items():
        lines.append(f"  {role:12} {login:32} {password}")
    lines += [
        "",
        f"Corrector: {server_url}/marking · coordinator: {server_url}/coordination/papers/1",
        f"Office: {server_url}/office/closing/papers/1",
    ]
    console.print(Panel("\n".join(lines), title="Massicot demo", expand=False))
