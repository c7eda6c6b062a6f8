"""Ingest throughput: several scan stations push sealed lots to one server at once.

For each database (SQLite, then a throw-away PostgreSQL cluster started the way the test
fixture starts it), the script:
1. starts `massicot serve` on 127.0.0.1 with an empty store,
2. measures a baseline in the same run: one station pushing one lot, one image at a time,
3. pushes lots totalling >= 2,000 pages (200 dpi-sized JPEGs, ~250 kB) from several
   stations at once, SIGKILLs one station mid-push and runs it again (resume),
4. checks the server ended with exactly every lot (row counts, every stored image hashed).

Stations and server share this machine's cores, as the issue asks, so the figure is the
whole chain's; the CPU per page printed beside it says where the time goes. The
PostgreSQL cluster is the test fixture's (fsync=off, synchronous_commit=off); the page
store still flushes each lot to disk (syncfs) before committing it.

Last line per database: `ingest_pages_per_s=<x> db=<sqlite|postgresql> resumed_after_kill=<ok|fail>`
(PostgreSQL last). Usage: python bench/ingest.py [--stations 4] [--lots-per-station 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from correction_server.migrate import upgrade_database
from testkit.postgres import PgCluster, find_pg_bin
from testkit.push_helpers import start_push
from testkit.push_setup import SealedLot, ServerProcess, make_sealed_lot, page_jpeg, seed_exam

COPIES_PER_LOT = 63
PAGES_PER_COPY = 4


@dataclass
class Station:
    centre: str
    token: str
    lots: list[SealedLot]


def _run_station(station: Station, server: str, kill_first: bool, results: dict) -> None:
    ok = True
    for index, lot in enumerate(station.lots):
        if kill_first and index == 0:
            # One image at a time, so that on a quiet machine the kill still lands mid-upload
            # (with parallel uploads the whole lot could be in before the signal).
            proc = start_push(lot.folder, server, station.token, "--parallel", "1")
            _wait_for_acknowledged(lot.folder, max(1, lot.pages // 8))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            results["killed_before_end"] = proc.returncode == -signal.SIGKILL
            proc = start_push(lot.folder, server, station.token)
            out, err = proc.communicate()
            results["resumed"] = proc.returncode == 0 and out.startswith("received")
            results["resume_line"] = out.strip() or err.strip()[-300:]
            ok = ok and proc.returncode == 0
            continue
        proc = start_push(lot.folder, server, station.token)
        out, err = proc.communicate()
        if proc.returncode != 0:
            print(f"station {station.centre}: {err.strip()[-500:]}", file=sys.stderr)
        ok = ok and proc.returncode == 0
    results[station.centre] = ok


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (the server and its workers)."""
    total = 0.0
    pids = [pid]
    for child in Path("/proc").glob("[0-9]*"):
        try:
            if int((child / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                pids.append(int(child.name))
        except (OSError, ValueError, IndexError):
            continue
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wait_for_acknowledged(folder: Path, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = json.loads((folder / "push-state.json").read_text())
            if len(state.get("acknowledged", [])) >= count:
                return
        except (FileNotFoundError, ValueError):
            pass
        time.sleep(0.05)


def _check_server(db_url: str, store: Path, lots: list[SealedLot]) -> bool:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            counts = {
                t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                for t in ("scan_lot", "copy", "page", "identity_link", "push_upload")
            }
    finally:
        engine.dispose()
    expected = {
        "scan_lot": len(lots),
        "copy": sum(len(lot.copies) for lot in lots),
        "page": sum(lot.pages for lot in lots),
        "identity_link": sum(len(lot.copies) for lot in lots),
        "push_upload": 0,
    }
    if counts != expected:
        print(f"rows {counts} != expected {expected}", file=sys.stderr)
        return False
    for lot in lots:
        for copy in lot.manifest.copies:
            for page in copy.pages:
                path = store / "objects" / page.sha256[:2] / page.sha256[2:4] / page.sha256
                if hashlib.sha256(path.read_bytes()).hexdigest() != page.sha256:
                    print(f"stored image {page.sha256} is damaged", file=sys.stderr)
                    return False
    return not any((store / "partial").glob("*.part"))


def _make_lots(root: Path, exam, centres: list[str], lots_per_station: int, base: bytes) -> list[Station]:
    stations = []
    for centre in centres:
        regs = exam.candidates[centre]
        lots = [
            make_sealed_lot(
                root / f"{centre}-{n}",
                centre,
                exam.paper,
                regs[n * COPIES_PER_LOT : (n + 1) * COPIES_PER_LOT],
                pages_per_copy=PAGES_PER_COPY,
                base_jpeg=base,
            )
            for n in range(lots_per_station)
        ]
        stations.append(Station(centre, exam.tokens[centre], lots))
    return stations


def run_one(
    db_kind: str, db_url: str, root: Path, stations_n: int, lots_per_station: int, workers: int
) -> str:
    upgrade_database(db_url)
    centres = [f"{130050 + i:07d}{chr(ord('A') + i)}" for i in range(stations_n + 1)]
    per_centre = COPIES_PER_LOT * lots_per_station
    exam = seed_exam(db_url, dict.fromkeys(centres, per_centre))
    # A 200 dpi A4 grayscale page with paper grain: ~250 kB like a real scan; one picture,
    # a distinct marker per page (distinct bytes and hashes, no re-encoding cost here).
    base = page_jpeg("copy page", 1654, 2339, noise=6, seed=1)
    baseline_station, *stations = _make_lots(root / "lots", exam, centres, lots_per_station, base)
    all_lots = [lot for station in [baseline_station, *stations] for lot in station.lots]
    store = root / "store"
    server = ServerProcess(db_url, store, root / "server", workers=workers).start()
    try:
        # Baseline: one station, one lot, one image in flight at a time.
        lot = baseline_station.lots[0]
        started = time.monotonic()
        proc = start_push(lot.folder, server.url, baseline_station.token, "--parallel", "1")
        out, err = proc.communicate()
        baseline = lot.pages / (time.monotonic() - started)
        if proc.returncode != 0:
            raise RuntimeError(f"baseline push failed: {err[-500:]}")
        for extra in baseline_station.lots[1:]:
            proc = start_push(extra.folder, server.url, baseline_station.token)
            proc.communicate()

        results: dict = {}
        threads = [
            threading.Thread(target=_run_station, args=(station, server.url, index == 0, results))
            for index, station in enumerate(stations)
        ]
        pages = sum(lot.pages for station in stations for lot in station.lots)
        size = sum(lot.image_bytes for station in stations for lot in station.lots)
        server_cpu_before = _tree_cpu(server.proc.pid)
        stations_cpu_before = _children_cpu()
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        server_cpu = _tree_cpu(server.proc.pid) - server_cpu_before
        stations_cpu = _children_cpu() - stations_cpu_before
    finally:
        server.stop()
    rate = pages / elapsed
    intact = _check_server(db_url, store, all_lots)
    resumed = bool(results.get("resumed") and results.get("killed_before_end") and intact)
    resumed = resumed and all(results.get(station.centre) for station in stations)
    print(
        f"{db_kind}: {len(stations)} stations x {lots_per_station} lots = {pages} pages "
        f"({size / 1e6:.0f} MB, {size / pages / 1e3:.0f} kB/page) in {elapsed:.1f} s, "
        f"server workers={workers}; "
        f"baseline (1 station, 1 image at a time) {baseline:.0f} pages/s; "
        f"ratio {rate / baseline:.1f}x; CPU per page: server {server_cpu / pages * 1e3:.1f} ms, "
        f"stations {stations_cpu / pages * 1e3:.1f} ms; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores; server intact after the kill: {intact}; "
        f"resumed push: {results.get('resume_line', '?')}"
    )
    return f"ingest_pages_per_s={rate:.0f} db={db_kind} resumed_after_kill={'ok' if resumed else 'fail'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=4)
    parser.add_argument("--lots-per-station", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    lines = []
    root = Path(tempfile.mkdtemp(prefix="massicot-bench-ingest-"))
    try:
        if args.only in (None, "sqlite"):
            folder = root / "sqlite"
            folder.mkdir()
            url = f"sqlite:///{folder / 'massicot.sqlite3'}"
            lines.append(run_one("sqlite", url, folder, args.stations, args.lots_per_station, args.workers))
            print(lines[-1], flush=True)
        if args.only in (None, "postgresql"):
            lines.append(_run_postgresql(root, args))
            print(lines[-1], flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if all("resumed_after_kill=ok" in line for line in lines) else 1


def _run_postgresql(root: Path, args: argparse.Namespace) -> str:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin")
    cluster_root = Path(tempfile.mkdtemp(prefix="massicot-bench-pg-"))
    cluster = PgCluster(bin_dir=bin_dir, root=cluster_root)
    cluster.start()
    try:
        admin = create_engine(f"{cluster.url}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE bench"))
        admin.dispose()
        folder = root / "postgresql"
        folder.mkdir()
        return run_one(
            "postgresql", f"{cluster.url}/bench", folder, args.stations, args.lots_per_station, args.workers
        )
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
