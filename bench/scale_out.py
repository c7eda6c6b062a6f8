"""The production shape on this machine: nginx in front of two server processes, one worker,
PostgreSQL and SeaweedFS (deploy/up_local.py), through a scan evening and a correction evening.

1. Four stations push their sealed lots at once through nginx into the bucket; one of them is
   killed in the middle of its upload and started again (it resumes where the bucket stands).
   Printed: pages/s from the first push to the last acknowledgement.
2. The worker makes every display image from the bucket (the job queue); the servers take them
   from the bucket, they render nothing.
3. 1,000 correctors mark for `--seconds` through nginx, each page its own image, paced as in
   bench/marking_load.py (the same corrector, the same checks). Half-way, one server process is
   killed (SIGKILL) and started again 10 s later: nginx sends its users to the other. A save
   that gets no answer is sent again after 3 s, as the copy view does (marking.js); every
   acknowledged mark is then checked in the database.
4. `massicot office backup` of the whole site, restored into a new database and a new bucket;
   the restored database is checked (`audit verify`, every page's image hashes to its name,
   every acknowledged mark is there).

Baseline, same run: one corrector alone through nginx, no pauses.
PostgreSQL runs durable here (fsync and synchronous commit on), as in production.

Last line, exactly:
    servers=2 store=s3 ingest_pages_per_s=<r> correctors=<n> requests=<q> errors=<e>
    lost_marks=<l> p95_ms=<p> p99_ms=<p> backup_restore=<ok|failed: why>
(on one line). Targets: ingest >= 200 pages/s, 0 lost marks, p95 < 100 ms.

    .venv/bin/python bench/scale_out.py [--correctors 1000] [--seconds 150]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from marking_load import (
    COPIES_PER_LOT,
    DISTINCT_DRAWINGS,
    SECRET,
    build,
    derivative_paths,
    describe,
    drawn_scans,
    lost_marks,
    percentile,
    run_clients,
    sealed_lots,
    seed_paper,
    wait_for_files,
)
from sqlalchemy import text

from correction_server.db import make_engine
from correction_server.pages.s3store import S3Store
from deploy.up_local import LocalDeployment, up_local
from testkit.push_setup import SealedLot

STATIONS = 4


def push(deployment: LocalDeployment, token: str, lot: SealedLot) -> subprocess.Popen:
    env = {**os.environ, "MASSICOT_TOKEN": token}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "massicot"), "push", str(lot.folder), "--server", deployment.url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def push_evening(deployment: LocalDeployment, token: str, lots: list[SealedLot]) -> tuple[float, str]:
    """Every lot pushed, STATIONS at a time; the first one killed mid-upload and resumed."""
    waiting = list(lots)
    running: list[tuple[SealedLot, subprocess.Popen]] = []
    killed = ""
    started = time.perf_counter()
    first = waiting[0]
    while waiting or running:
        while waiting and len(running) < STATIONS:
            lot = waiting.pop(0)
            running.append((lot, push(deployment, token, lot)))
        if not killed:
            time.sleep(2.0)  # the first station is in the middle of its images
            lot, station = running[0]
            assert lot is first
            station.send_signal(signal.SIGKILL)
            station.wait(10)
            killed = f"station of lot {first.folder.name} killed after 2 s and started again"
            running[0] = (lot, push(deployment, token, lot))
            continue
        lot, done = running.pop(0)
        out, err = done.communicate()
        if done.returncode != 0 or not out.startswith("received"):
            raise SystemExit(f"a push failed: {out.strip()} {err.strip()[-500:]}")
    return time.perf_counter() - started, killed


def durable(deployment: LocalDeployment) -> None:
    admin = make_engine(f"{deployment.cluster.url}/postgres")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ALTER SYSTEM SET fsync = on"))
        conn.execute(text("ALTER SYSTEM SET synchronous_commit = on"))
        conn.execute(text("SELECT pg_reload_conf()"))
    admin.dispose()


def kill_one_server_midway(
    deployment: LocalDeployment, after: float, events: list[str], killed_at: list[float]
) -> threading.Thread:
    def work() -> None:
        time.sleep(after)
        victim = deployment.servers[0]
        killed_at.append(time.monotonic())
        victim.kill()
        events.append(f"server process on port {victim.port} killed {after:.0f} s into the run")
        time.sleep(10)
        victim.start()
        events.append("started again 10 s later")

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def massicot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "massicot"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=1800,
    )


def backup_and_restore(deployment: LocalDeployment, folder: Path, stats) -> str:
    """The site backed up, restored into a new database and a new bucket, and checked there."""
    env = deployment.environ
    store_url = env["MASSICOT_STORE_URL"]
    t0 = time.perf_counter()
    done = massicot("office", "backup", str(folder), "--db", deployment.db_url, "--store", store_url, env=env)
    if done.returncode != 0:
        return "failed: backup: " + (done.stderr or done.stdout).strip().replace("\n", " ")[-300:]
    backed = time.perf_counter() - t0
    admin = make_engine(f"{deployment.cluster.url}/postgres")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CREATE DATABASE restored"))
    admin.dispose()
    restored_db = f"{deployment.cluster.url}/restored"
    bucket = deployment.seaweed.new_bucket()
    restored_store = f"s3://{bucket}/pages"
    t0 = time.perf_counter()
    done = massicot("office", "restore", str(folder), "--db", restored_db, "--store", restored_store, env=env)
    if done.returncode != 0:
        return "failed: restore: " + (done.stderr or done.stdout).strip().replace("\n", " ")[-300:]
    restored = time.perf_counter() - t0
    verified = massicot("audit", "verify", "--db", restored_db, env=env)
    if verified.returncode != 0:
        return "failed: audit verify: " + verified.stdout.strip()[-300:]
    store = S3Store(deployment.seaweed.client(), bucket, "pages")
    engine = make_engine(restored_db)
    with engine.connect() as conn:
        hashes = sorted({sha for (sha,) in conn.execute(text("SELECT image_sha256 FROM page"))})
    engine.dispose()
    for sha in hashes:
        with store.open(sha) as handle:
            if hashlib.sha256(handle.read()).hexdigest() != sha:
                return f"failed: page image {sha[:12]} does not hash to its name"
    lost = lost_marks(restored_db, stats)
    if lost:
        return f"failed: {lost} acknowledged marks missing from the restored database"
    print(
        f"backup in {backed:.0f} s, restore in {restored:.0f} s; restored: audit verify passed, "
        f"{len(hashes)} page images hash to their names, every acknowledged mark is there",
        flush=True,
    )
    return "ok"


def by_phase(stats, killed: float, window: float = 20.0) -> str:
    """p95 of the answers before the kill, in the `window` s after it (the restart included), after."""
    phases: dict[str, list[float]] = {"before": [], "kill window": [], "after": []}
    for latency, at in zip(stats.latencies, stats.finished_at, strict=True):
        name = "before" if at < killed else "kill window" if at < killed + window else "after"
        phases[name].append(latency)
    return "by phase: " + ", ".join(
        f"{name} n={len(values)} p95_ms={percentile(values, 95):.0f}" for name, values in phases.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--correctors", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="massicot-scale-"))
    settings = {"MASSICOT_SECRET_KEY": SECRET, "MASSICOT_SERVER_TIMING": "1"}
    with up_local(servers=2, extra=settings) as deployment:
        durable(deployment)
        url = deployment.db_url
        people_count = args.correctors + 1
        t0 = time.perf_counter()
        token, regs = seed_paper(url, people_count * COPIES_PER_LOT)
        lots = sealed_lots(work / "lots", regs, drawn_scans(DISTINCT_DRAWINGS))
        pages = sum(lot.pages for lot in lots)
        print(f"setup: {pages} pages in {len(lots)} sealed lots, in {time.perf_counter() - t0:.0f} s")
        pushed, killed = push_evening(deployment, token, lots)
        ingest = pages / pushed
        print(
            f"ingest: {pages} pages through nginx into the bucket in {pushed:.0f} s ({ingest:.0f} pages/s, "
            f"{STATIONS} stations at once; {killed})",
            flush=True,
        )
        t0 = time.perf_counter()
        missing = wait_for_files(derivative_paths(deployment.root / "worker" / "store", lots), 3600, [])
        print(
            f"display images: {pages - len(missing)} of {pages} made by the worker in "
            f"{time.perf_counter() - t0:.0f} s after the last push",
            flush=True,
        )
        people = build(url, people_count)
        baseline = run_clients(deployment.url, people[:1], 5.0, False, args.seed)
        base_p95 = describe("baseline (1 corrector alone through nginx, no pauses)", baseline)
        events: list[str] = []
        killed_at: list[float] = []
        killer = kill_one_server_midway(deployment, args.seconds / 2, events, killed_at)
        run = run_clients(deployment.url, people[1:], args.seconds, True, args.seed, resend=True)
        killer.join(30)
        stats = run.stats
        lost = lost_marks(url, stats)
        p95, p99 = percentile(stats.latencies, 95), percentile(stats.latencies, 99)
        describe("load", run, f" p95/baseline={p95 / base_p95 if base_p95 else float('nan'):.1f}")
        print("during the run: " + "; ".join(events), flush=True)
        if killed_at:
            print(by_phase(stats, killed_at[0]), flush=True)
        for sample in stats.error_samples:
            print(f"error sample: {sample}", flush=True)
        for server in deployment.servers:
            own = list((server.store / "derived").rglob("*.jpg"))
            print(f"server on port {server.port}: {len(own)} display images, taken from the bucket")
        restored = backup_and_restore(deployment, work / "backup", stats)
        print(f"backup and restore: {restored}", flush=True)
    print(
        f"servers=2 store=s3 ingest_pages_per_s={ingest:.0f} correctors={args.correctors} "
        f"requests={len(stats.latencies)} errors={stats.errors} lost_marks={lost} "
        f"p95_ms={p95:.0f} p99_ms={p99:.0f} backup_restore={restored}",
        flush=True,
    )


if __name__ == "__main__":
    main()
