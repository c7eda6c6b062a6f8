"""Load of a correction evening: many correctors open copies, save marks and annotations, move on.

Starts a throw-away PostgreSQL cluster (the helper the tests use) and `massicot serve` on
127.0.0.1, creates the correctors and their lots, then runs one asynchronous HTTP client per
corrector for a bounded time. Each corrector loops: open the next copy of his lot (the copy
view page, its page images the first time), then autosave it several times (a mark, another
mark with an annotation layer, the last mark with the appreciation), pausing `--think` seconds
on average between actions, as a person does. Afterwards every acknowledged save is checked
against the database.

Baseline measured in the same run: one corrector alone, no pauses (the unloaded latency).

Last line, exactly:
    correctors=<n> requests=<r> errors=<e> lost_marks=<l> p95_ms=<p> p99_ms=<q>
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "marking"))


def _test_fixtures():
    """tests/conftest.py, loaded under its own name: its PgCluster is the cluster helper reused here."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("massicot_test_databases", ROOT / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


_fixtures = _test_fixtures()
PgCluster, find_pg_bin, free_port = _fixtures.PgCluster, _fixtures.find_pg_bin, _fixtures.free_port

from marking_world import page_jpeg  # noqa: E402

from correction_server import auth  # noqa: E402
from correction_server.db import make_engine, make_session_factory  # noqa: E402
from correction_server.migrate import upgrade_database  # noqa: E402
from correction_server.models import (  # noqa: E402
    Centre,
    Copy,
    CorrectorPaper,
    ExamSession,
    Marking,
    Page,
    Paper,
    Question,
    QuestionMark,
    User,
)
from correction_server.models.dispatch import CorrectionLot, LotCopy  # noqa: E402
from correction_server.storage import LocalStore  # noqa: E402

SECRET = "bench-secret"
COPIES_PER_LOT = 6
MAXIMA = (Decimal(4), Decimal(6), Decimal(10))


def build(url: str, store: LocalStore, correctors: int) -> list[dict]:
    """Correctors, lots and copies in bulk; returns per corrector: cookie, csrf, copy ids."""
    shas = [store.put(page_jpeg(f"Page {n}")) for n in (1, 2)]
    engine = make_engine(url)
    factory = make_session_factory(engine)
    now = datetime.now(UTC)
    with factory() as session, session.begin():
        exam = ExamSession(name="Bench session")
        centre = Centre(uai="0130040Y", name="Centre")
        paper = Paper(
            session=exam,
            code="U3",
            title="Bench",
            max_mark=Decimal(20),
            pages_per_copy=2,
            window_opens=now - timedelta(days=1),
            window_closes=now + timedelta(days=1),
            scheme_locked_at=now - timedelta(days=2),
        )
        for i, top in enumerate(MAXIMA):
            paper.questions.append(
                Question(position=i, label=f"Q{i + 1}", max_points=top, step=Decimal("0.5"))
            )
        session.add_all([exam, centre, paper])
        session.flush()
        question_ids = [q.id for q in paper.questions]
        session.execute(
            insert(User),
            [
                {
                    "username": f"corr{i:04d}",
                    "display_name": f"C{i}",
                    "email": "",
                    "role": "corrector",
                    "active": True,
                }
                for i in range(correctors)
            ],
        )
        users = session.execute(select(User.id, User.username).order_by(User.id)).all()
        session.execute(
            insert(CorrectorPaper),
            [{"user_id": uid, "paper_id": paper.id, "capacity": COPIES_PER_LOT} for uid, _ in users],
        )
        copies, pages, lots = [], [], []
        for n, (uid, _) in enumerate(users):
            lots.append({"paper_id": paper.id, "corrector_id": uid, "number": n + 1, "seed": 1})
            for k in range(COPIES_PER_LOT):
                cid = f"B{n:05d}{k:02d}"
                copies.append({"id": cid, "paper_id": paper.id, "centre_id": centre.id, "status": "ok"})
                for pos in range(2):
                    pages.append(
                        {
                            "copy_id": cid,
                            "position": pos,
                            "number": pos + 1,
                            "image_sha256": shas[pos],
                            "media_type": "image/jpeg",
                            "rotation": 0,
                            "skew_degrees": 0.0,
                            "blank": False,
                        }
                    )
        session.execute(insert(Copy), copies)
        session.execute(insert(Page), pages)
        session.execute(insert(CorrectionLot), lots)
        lot_ids = dict(session.execute(select(CorrectionLot.corrector_id, CorrectionLot.id)).all())
        session.execute(
            insert(LotCopy),
            [
                {"lot_id": lot_ids[uid], "copy_id": f"B{n:05d}{k:02d}", "position": k, "state": "assigned"}
                for n, (uid, _) in enumerate(users)
                for k in range(COPIES_PER_LOT)
            ],
        )
        page_ids: dict[str, list[int]] = {}
        for pid, cid in session.execute(select(Page.id, Page.copy_id).order_by(Page.position)):
            page_ids.setdefault(cid, []).append(pid)
        # Logins minted directly: argon2 on 1,000 passwords would measure the hasher, not marking.
        people = []
        for n, (uid, _) in enumerate(users):
            opened = auth.open_session(session, session.get(User, uid), SECRET)
            people.append(
                {
                    "cookie": opened.cookie_value,
                    "csrf": opened.csrf_token,
                    "copies": [f"B{n:05d}{k:02d}" for k in range(COPIES_PER_LOT)],
                }
            )
        session.flush()
    engine.dispose()
    return [{**p, "questions": question_ids, "pages": page_ids} for p in people]


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.by_kind: dict[str, list[float]] = {}
        self.errors = 0
        self.error_samples: list[str] = []
        self.acked: dict[str, dict[int, str]] = {}  # copy -> question -> last acknowledged mark

    def record(self, started: float, response: httpx.Response | None, expected: tuple[int, ...]) -> bool:
        elapsed = (time.perf_counter() - started) * 1000
        self.latencies.append(elapsed)
        if response is not None:
            kind = f"{response.request.method} {response.request.url.path.split('/')[2]}"
            self.by_kind.setdefault(kind, []).append(elapsed)
        if response is None or response.status_code not in expected:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(
                    "no answer" if response is None else f"{response.status_code} {response.text[:200]}"
                )
            return False
        return True


async def corrector(
    client: httpx.AsyncClient, person: dict, stats: Stats, until: float, think: float, rng: random.Random
):
    # One shared connection pool (creating 1,000 clients costs a minute of TLS contexts); each
    # corrector sends his own login cookie and CSRF header, as his browser would.
    headers = {
        "X-CSRF-Token": person["csrf"],
        "Accept": "text/html",
        "Cookie": f"{auth.SESSION_COOKIE}={person['cookie']}",
    }
    q1, q2, q3 = person["questions"]
    await asyncio.sleep(rng.uniform(0, think))  # people do not all start in the same second
    index = 0
    while time.monotonic() < until:
        copy_id = person["copies"][index % len(person["copies"])]
        index += 1
        started = time.perf_counter()
        try:
            response = await client.get(f"/marking/copies/{copy_id}", headers=headers)
        except httpx.HTTPError:
            response = None
        stats.record(started, response, (200,))
        for page_id in person["pages"][copy_id]:
            url = f"/marking/pages/{page_id}/image?w=1400"
            started = time.perf_counter()
            try:
                response = await client.get(url, headers=headers)
            except httpx.HTTPError:
                response = None
            stats.record(started, response, (200,))
        # The version the page loaded with: read it as the page script does.
        started = time.perf_counter()
        try:
            response = await client.get(f"/api/marking/copies/{copy_id}", headers=headers)
        except httpx.HTTPError:
            response = None
        if not stats.record(started, response, (200,)):
            continue
        version = response.json()["version"]
        marks = {
            q1: str(rng.randint(0, 8) / 2),
            q2: str(rng.randint(0, 12) / 2),
            q3: str(rng.randint(0, 20) / 2),
        }
        layer = [
            {"id": f"t{index}", "kind": "tick", "x": rng.random(), "y": rng.random()},
            {
                "id": f"p{index}",
                "kind": "pen",
                "points": [[rng.random(), rng.random()] for _ in range(30)],
            },
        ]
        saves = [
            {"marks": {str(q1): marks[q1]}},
            {
                "marks": {str(q1): marks[q1], str(q2): marks[q2]},
                "layers": {str(person["pages"][copy_id][0]): layer},
            },
            {
                "marks": {str(q): v for q, v in marks.items()},
                "appreciation": f"Copie {copy_id}: ensemble correct.",
            },
        ]
        for body in saves:
            if time.monotonic() >= until:
                break
            await asyncio.sleep(pause(rng, think))
            started = time.perf_counter()
            try:
                response = await client.put(
                    f"/api/marking/copies/{copy_id}", json={"version": version, **body}, headers=headers
                )
            except httpx.HTTPError:
                response = None
            if stats.record(started, response, (200,)):
                version = response.json()["version"]
                acked = stats.acked.setdefault(copy_id, {})
                acked.update({int(q): v for q, v in body["marks"].items()})
        await asyncio.sleep(pause(rng, think))


def pause(rng: random.Random, think: float) -> float:
    return rng.expovariate(1 / think) if think > 0 else 0.0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run_clients(base: str, people: list[dict], seconds: float, think: float, seed: int) -> Stats:
    stats = Stats()
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=len(people), max_keepalive_connections=len(people))
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(corrector(client, p, stats, until, think, random.Random(rng.random())) for p in people)
        )
    return stats


def lost_marks(url: str, stats: Stats) -> int:
    engine = make_engine(url)
    lost = 0
    with engine.connect() as conn:
        rows = conn.execute(
            select(Marking.copy_id, QuestionMark.question_id, QuestionMark.points).join(
                QuestionMark, QuestionMark.marking_id == Marking.id
            )
        ).all()
    engine.dispose()
    stored = {(c, q): p for c, q, p in rows}
    for copy_id, marks in stats.acked.items():
        for qid, value in marks.items():
            if stored.get((copy_id, qid)) != Decimal(value):
                lost += 1
    return lost


def start_server(url: str, store: Path, data: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "MASSICOT_SECRET_KEY": SECRET, "MASSICOT_DATA": str(data)}
    massicot = str(Path(sys.executable).parent / "massicot")
    process = subprocess.Popen(
        [
            massicot,
            "serve",
            "--db",
            url,
            "--store",
            str(store),
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(data / "server.log", "ab"),  # noqa: SIM115
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit((data / "server.log").read_text()[-3000:])
        try:
            if httpx.get(base + "/login", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--correctors", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--think", type=float, default=5.0, help="mean pause between a corrector's actions (s)"
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit(
            "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
        )
    work = Path(tempfile.mkdtemp(prefix="massicot-bench-"))
    pg_root = Path(tempfile.mkdtemp(prefix="massicot-bench-pg-"))
    cluster = PgCluster(bin_dir=bin_dir, root=pg_root)
    server = None
    try:
        cluster.start()
        # The test cluster runs without fsync; a durable server is what is measured here.
        admin = make_engine(f"{cluster.url}/postgres")
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ALTER SYSTEM SET fsync = on"))
            conn.execute(text("ALTER SYSTEM SET synchronous_commit = on"))
            conn.execute(text("SELECT pg_reload_conf()"))
            conn.execute(text("CREATE DATABASE bench"))
        admin.dispose()
        url = f"{cluster.url}/bench"
        upgrade_database(url)
        store = LocalStore(work / "store")
        t0 = time.perf_counter()
        people = build(url, store, args.correctors + 1)
        print(
            f"setup: {args.correctors + 1} correctors, {COPIES_PER_LOT} copies each, "
            f"in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        server, base = start_server(url, work / "store", work, args.workers)
        baseline = asyncio.run(run_clients(base, people[:1], 5.0, 0.0, args.seed))
        base_p95 = percentile(baseline.latencies, 95)
        print(
            f"baseline (1 corrector, no pauses): requests={len(baseline.latencies)} "
            f"p50_ms={percentile(baseline.latencies, 50):.1f} p95_ms={base_p95:.1f}",
            flush=True,
        )
        stats = asyncio.run(run_clients(base, people[1:], args.seconds, args.think, args.seed))
        lost = lost_marks(url, stats)
        p95, p99 = percentile(stats.latencies, 95), percentile(stats.latencies, 99)
        rate = len(stats.latencies) / args.seconds
        print(
            f"load: {args.seconds:.0f} s, think {args.think} s, workers {args.workers}: "
            f"{rate:.0f} requests/s, p50_ms={percentile(stats.latencies, 50):.1f}, "
            f"p95 ratio to baseline {p95 / base_p95 if base_p95 else float('nan'):.2f}, "
            f"acknowledged copies {len(stats.acked)}",
            flush=True,
        )
        for kind, values in sorted(stats.by_kind.items()):
            p50, p95k = percentile(values, 50), percentile(values, 95)
            print(f"  {kind}: n={len(values)} p50_ms={p50:.1f} p95_ms={p95k:.1f}")
        for sample in stats.error_samples:
            print(f"error sample: {sample}", flush=True)
        print(
            f"correctors={args.correctors} requests={len(stats.latencies)} errors={stats.errors} "
            f"lost_marks={lost} p95_ms={p95:.0f} p99_ms={p99:.0f}",
            flush=True,
        )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        try:
            cluster.stop()
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
