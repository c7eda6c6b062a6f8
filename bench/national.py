"""One national paper in PostgreSQL: does every page stay as fast at 500,000 copies as at 10,000?

A throw-away PostgreSQL cluster holds two papers written as the services would leave them
(testkit/worlds/national.py, with COPY): first a paper of 10,000 copies (the baseline, measured
alone in the database), then a national paper of 500,000 copies (2 million page rows) from
3,000 centres for 4,000 correctors. For each, in the same run and against the same
`massicot serve`:

- dispatch (`dispatch_paper`, the service the office's button calls) in seconds;
- a corrector's next copy (his home page, where each lot says which copy comes next) and the
  copy view, p95 over many correctors and copies, one request at a time (this measures the
  queries' shape against the data's size; bench/marking_load.py measures load);
- the coordinator's progress block and the office's session page (p95);
- at full size only: every copy marked (COPY), the harmonisation meeting recorded, then the
  named and the anonymised jury exports (`export_marks`, `export_anonymised`) in rows/s.

The cluster runs without fsync: nothing here measures commit latency.

Last line, exactly:
    copies=<n> dispatch_s=<s> open_p95_ms_10k=<a> open_p95_ms_500k=<b> flat_ratio=<b/a>
    progress_p95_ms=<p> export_rows_per_s=<r>
(on one line). Targets: dispatch < 60 s, flat_ratio <= 1.5, progress and session page p95 < 200 ms.

    .venv/bin/python bench/national.py [--copies 500000] [--centres 3000] [--correctors 4000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from marking_load import SECRET, percentile, start_server
from sqlalchemy import select, text

from correction_server.audit import log as audit
from correction_server.auth import sessions as auth
from correction_server.closing.anonymised import export_anonymised
from correction_server.closing.export import export_marks
from correction_server.coordination.harmonisation_meeting import record_meeting
from correction_server.db import make_engine, make_session_factory
from correction_server.dispatch.planning import dispatch_paper
from correction_server.migrate import upgrade_database
from correction_server.models import CorrectorPaper, Paper, Role, User
from correction_server.models.dispatch import CorrectionLot, LotCopy
from testkit.postgres import throwaway_cluster
from testkit.worlds.national import NationalPaper, mark_everything, populate

SAMPLED_CORRECTORS = 60
COPIES_OPENED_EACH = 4
PAGE_REPEATS = 40


@dataclass
class Figures:
    dispatch_s: float
    next_p95: float
    open_p95: float
    progress_p95: float
    glance_p95: float


def login(factory, user_id: int) -> dict[str, str]:
    # Minted directly, as bench/marking_load.py does: argon2 is not what is measured.
    with factory() as session, session.begin():
        opened = auth.open_session(session, session.get(User, user_id), SECRET)
        return {auth.SESSION_COOKIE: opened.cookie_value}


def staff(factory, paper_id: int, code: str) -> tuple[int, int]:
    """A coordinator of the paper and an office clerk (after dispatch: neither takes copies)."""
    with factory() as session, session.begin():
        coordinator = User(
            username=f"{code.lower()}-coord@example.fr", display_name="IPR", role=Role.COORDINATOR
        )
        office = User(username=f"{code.lower()}-office@example.fr", display_name="DEC", role=Role.OFFICE)
        session.add_all([coordinator, office])
        session.flush()
        session.add(CorrectorPaper(user_id=coordinator.id, paper_id=paper_id, capacity=0))
        return coordinator.id, office.id


def staff_id(factory, username: str) -> int:
    with factory() as session:
        return session.scalar(select(User.id).where(User.username == username))


def timed_gets(client: httpx.Client, cookies: dict[str, str], urls: list[str]) -> list[float]:
    times = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url, cookies=cookies)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: {response.status_code} {response.text[:300]}")
    return times


def rows_scanned(engine) -> dict[str, int]:
    """Rows read by sequential scans, per table: what an index would have spared."""
    with engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT relname, seq_tup_read FROM pg_stat_user_tables").all())


def scanned_since(engine, before: dict[str, int]) -> str:
    after = rows_scanned(engine)
    read = sorted(((after[t] - before.get(t, 0), t) for t in after), reverse=True)
    return ", ".join(f"{t} {n:,}" for n, t in read[:4] if n) or "none"


def measure(engine, factory, base: str, world: NationalPaper, seed: int) -> Figures:
    with factory() as session:
        start = time.perf_counter()
        outcome = dispatch_paper(session, session.get(Paper, world.paper_id), seed=seed)
        dispatch_s = time.perf_counter() - start
    print(
        f"{world.code}: dispatch of {outcome.copies_dispatched} copies to "
        f"{len(world.corrector_ids)} correctors in {dispatch_s:.1f} s",
        flush=True,
    )
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
        lots = conn.execute(
            select(CorrectionLot.corrector_id, LotCopy.copy_id)
            .join(LotCopy, LotCopy.lot_id == CorrectionLot.id)
            .where(CorrectionLot.paper_id == world.paper_id)
            .order_by(LotCopy.lot_id, LotCopy.position)
        ).all()
    copies_of: dict[int, list[str]] = {}
    for corrector, copy_id in lots:
        copies_of.setdefault(corrector, []).append(copy_id)
    rng = random.Random(seed)
    sampled = rng.sample(sorted(copies_of), min(SAMPLED_CORRECTORS, len(copies_of)))
    next_times: list[float] = []
    open_times: list[float] = []
    scanned = rows_scanned(engine)
    with httpx.Client(base_url=base, timeout=60) as client:
        for uid in sampled:
            cookies = login(factory, uid)
            next_times += timed_gets(client, cookies, ["/marking"])
            mine = copies_of[uid]
            picks = rng.sample(mine, min(COPIES_OPENED_EACH, len(mine)))
            open_times += timed_gets(client, cookies, [f"/marking/copies/{c}" for c in picks])
        coordinator, office = staff(factory, world.paper_id, world.code)
        progress = timed_gets(
            client,
            login(factory, coordinator),
            [f"/coordination/papers/{world.paper_id}/progress"] * PAGE_REPEATS,
        )
        glance = timed_gets(client, login(factory, office), ["/office"] * PAGE_REPEATS)
    figures = Figures(
        dispatch_s,
        percentile(next_times, 95),
        percentile(open_times, 95),
        percentile(progress, 95),
        percentile(glance, 95),
    )
    print(
        f"{world.code}: first request (computed) coordinator's progress {progress[0]:.0f} ms, "
        f"office's session page {glance[0]:.0f} ms; then polled {PAGE_REPEATS} times each",
        flush=True,
    )
    print(
        f"{world.code} ({world.copies} copies, {world.pages} pages): next copy p95 "
        f"{figures.next_p95:.1f} ms, copy open p95 {figures.open_p95:.1f} ms "
        f"({len(open_times)} copies of {len(sampled)} correctors), coordinator's progress p95 "
        f"{figures.progress_p95:.1f} ms, office's session page p95 {figures.glance_p95:.1f} ms",
        flush=True,
    )
    # The statistics collector is asynchronous: give it its flush interval.
    time.sleep(1.5)
    print(
        f"{world.code}: rows read by sequential scans while the pages answered: "
        + scanned_since(engine, scanned)
    )
    return figures


def exports(engine, factory, base: str, world: NationalPaper) -> float:
    start = time.perf_counter()
    marked = mark_everything(engine, world.paper_id)
    print(f"{world.code}: {marked} copies marked (COPY) in {time.perf_counter() - start:.0f} s", flush=True)
    with factory() as session, session.begin():
        record_meeting(
            session,
            world.paper_id,
            date.today(),
            "IPR, correcteurs",
            "Barème appliqué.",
            audit.SYSTEM,
            "bench",
        )
    # Once every copy is marked the session page asks the reconciliation what is left.
    office = login(factory, staff_id(factory, f"{world.code.lower()}-office@example.fr"))
    with httpx.Client(base_url=base, timeout=300) as client:
        glance = timed_gets(client, office, ["/office"] * 5)
    print(
        f"{world.code}: office's session page once every copy is marked: p95 {percentile(glance, 95):.0f} ms",
        flush=True,
    )
    rates = []
    for label, export in (("named", export_marks), ("anonymised", export_anonymised)):
        with factory() as session:
            start = time.perf_counter()
            result = export(session, world.paper_id, "csv", audit.SYSTEM, "bench")
            session.commit()
            seconds = time.perf_counter() - start
        rates.append(result.rows / seconds)
        print(
            f"{world.code}: {label} jury export, {result.rows} rows "
            f"({len(result.data) / 1e6:.0f} MB CSV) in {seconds:.1f} s: {result.rows / seconds:.0f} rows/s",
            flush=True,
        )
    return min(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=500_000)
    parser.add_argument("--centres", type=int, default=3_000)
    parser.add_argument("--correctors", type=int, default=4_000)
    parser.add_argument("--baseline-copies", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="massicot-national-"))
    with throwaway_cluster() as cluster:
        admin = make_engine(f"{cluster.url}/postgres")
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("CREATE DATABASE national"))
        admin.dispose()
        url = f"{cluster.url}/national"
        upgrade_database(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        server, base = start_server(url, work / "store", work, 1)
        try:
            ratio = args.copies / args.baseline_copies
            start = time.perf_counter()
            small = populate(
                engine,
                factory,
                code="B10",
                copies=args.baseline_copies,
                centres=max(1, round(args.centres / ratio)),
                correctors=max(2, round(args.correctors / ratio)),
                seed=args.seed,
            )
            print(f"baseline paper written in {time.perf_counter() - start:.0f} s", flush=True)
            base_figures = measure(engine, factory, base, small, args.seed)
            start = time.perf_counter()
            big = populate(
                engine,
                factory,
                code="N50",
                copies=args.copies,
                centres=args.centres,
                correctors=args.correctors,
                seed=args.seed,
            )
            print(
                f"national paper written in {time.perf_counter() - start:.0f} s: {big.copies} copies, "
                f"{big.pages} pages, {args.centres} centres, {args.correctors} correctors",
                flush=True,
            )
            figures = measure(engine, factory, base, big, args.seed)
            rows_per_s = exports(engine, factory, base, big)
        finally:
            server.terminate()
            server.wait(timeout=30)
            engine.dispose()
    flat = figures.open_p95 / base_figures.open_p95
    print(
        f"flatness: copy open {base_figures.open_p95:.1f} -> {figures.open_p95:.1f} ms, next copy "
        f"{base_figures.next_p95:.1f} -> {figures.next_p95:.1f} ms "
        f"(ratio {figures.next_p95 / base_figures.next_p95:.2f}), progress "
        f"{base_figures.progress_p95:.1f} -> {figures.progress_p95:.1f} ms, session page "
        f"{base_figures.glance_p95:.1f} -> {figures.glance_p95:.1f} ms"
    )
    print(
        f"copies={args.copies} dispatch_s={figures.dispatch_s:.1f} "
        f"open_p95_ms_10k={base_figures.open_p95:.1f} open_p95_ms_500k={figures.open_p95:.1f} "
        f"flat_ratio={flat:.2f} progress_p95_ms={max(figures.progress_p95, figures.glance_p95):.1f} "
        f"export_rows_per_s={rows_per_s:.0f}"
    )


if __name__ == "__main__":
    main()
