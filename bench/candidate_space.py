"""The candidate space at a session's scale, on PostgreSQL.

1. Access letters: codes and the letters PDF for 10,000 candidates at once (what the office's
   `massicot office candidate-access --paper U3` does), in pages/s; baseline in the same run:
   letters issued one candidate at a time (code, audit entry, one-page PDF each), as an office
   answering candidates one by one would.
2. 1,000 simulated candidates open their copies against `massicot serve` on 127.0.0.1: each
   opens his results page, his copy page (the annotation layer drawn in SVG, marks, appreciation)
   and its page images, arriving spread over --spread seconds, each with his own keep-alive
   connection and login cookie. Printed: p95 of the copy page and of a page image, errors.
   Baseline in the same run, same server: one candidate alone doing the same, one after another.

Set-up kept out of the figures: the paper, 10,000 candidates with a marked, annotated copy of two
pages each, the results published, 1,000 activated accounts (sessions opened directly: argon2 for
a thousand logins would measure the password hash, which the login benchmark covers). The page
images are a few distinct grey scans (display images made once each), so the page-image figure
is the serving path (ownership check, cached display image), not JPEG rendering.

Last line, exactly:
    letters_pages_per_s=<r> candidates=<n> requests=<q> errors=<e> copy_page_p95_ms=<p> image_p95_ms=<i>
"""

from __future__ import annotations

import argparse
import asyncio
import io
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
from PIL import Image, ImageDraw
from sqlalchemy import insert, select, text

from correction_server.audit import log as audit
from correction_server.auth import sessions as auth
from correction_server.candidate_space import letters
from correction_server.candidate_space.copies import copy_token
from correction_server.db import make_engine, make_session_factory
from correction_server.i18n import register_words
from correction_server.migrate import upgrade_database
from correction_server.models import (
    AnnotationLayer,
    Candidate,
    CandidateAccount,
    Centre,
    Copy,
    ExamSession,
    IdentityLink,
    Marking,
    MarkingStatus,
    Page,
    Paper,
    Question,
    QuestionMark,
    ResultsPublication,
    Role,
    RollEntry,
    User,
)
from correction_server.pages.store import LocalStore
from testkit.net import free_port
from testkit.postgres import PgCluster, find_pg_bin

SECRET = "bench-candidate-secret"
OFFICE = audit.Actor(None, "office")
DISTINCT_SCANS = 8
LAYER = [
    {"id": "x", "kind": "cross", "x": 0.3, "y": 0.4, "colour": "red"},
    {"id": "t", "kind": "tick", "x": 0.5, "y": 0.2, "colour": "green"},
    {"id": "h", "kind": "highlight", "x": 0.6, "y": 0.7, "w": 0.2, "h": 0.05, "colour": "blue"},
    {"id": "p", "kind": "pen", "points": [[0.1, 0.5], [0.2, 0.55], [0.3, 0.5]], "colour": "red"},
    {"id": "w", "kind": "text", "x": 0.1, "y": 0.8, "text": "Justifier ce calcul"},
]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def scan(n: int) -> bytes:
    image = Image.new("L", (1240, 1754), 248)
    draw = ImageDraw.Draw(image)
    for y in range(200, 1650, 60):
        draw.line([(80, y), (1160, y)], fill=200, width=2)
    draw.text((100, 100), f"Copie {n}", fill=0)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=75)
    return out.getvalue()


def seed(url: str, store: LocalStore, candidates: int) -> int:
    """The paper, its candidates with one marked, annotated copy each, results published."""
    shas = [store.put(scan(n)) for n in range(DISTINCT_SCANS)]
    factory = make_session_factory(make_engine(url))
    now = datetime.now(UTC)
    with factory() as session, session.begin():
        exam = ExamSession(name="BTS 2026")
        paper = Paper(session=exam, code="U3", title="Mathématiques", pages_per_copy=2)
        paper.questions.append(Question(position=0, label="1", max_points=Decimal(8), step=Decimal("0.5")))
        paper.questions.append(Question(position=1, label="2", max_points=Decimal(12), step=Decimal("0.5")))
        centre = Centre(uai="0130040Y", name="Lycée Thiers")
        session.add_all([exam, paper, centre])
        session.flush()
        marker = User(username="c@lycee.fr", role=Role.CORRECTOR, display_name="C")
        session.add(marker)
        session.flush()
        q1, q2 = (q.id for q in paper.questions)
        rows = [
            {
                "registration": f"0241{k:07d}",
                "surname": f"NOM{k}",
                "given_names": "Prénom",
                "birth_date": datetime(2006, 1 + k % 12, 1 + k % 28).date(),
                "centre_id": centre.id,
            }
            for k in range(candidates)
        ]
        session.execute(insert(Candidate), rows)
        ids = list(session.scalars(select(Candidate.id).order_by(Candidate.id)))
        session.execute(
            insert(RollEntry),
            [{"candidate_id": c, "paper_id": paper.id, "attendance": "present"} for c in ids],
        )
        copies = [f"C{k:08d}" for k in range(candidates)]
        session.execute(
            insert(Copy),
            [{"id": c, "paper_id": paper.id, "centre_id": centre.id, "status": "ok"} for c in copies],
        )
        session.execute(
            insert(Page),
            [
                {"copy_id": c, "position": p, "number": p + 1, "image_sha256": shas[(k + p) % len(shas)]}
                for k, c in enumerate(copies)
                for p in (0, 1)
            ],
        )
        session.execute(
            insert(IdentityLink),
            [{"copy_id": c, "candidate_id": i} for c, i in zip(copies, ids, strict=True)],
        )
        session.execute(
            insert(Marking),
            [
                {
                    "copy_id": c,
                    "corrector_id": marker.id,
                    "version": 1,
                    "status": MarkingStatus.MARKED.value,
                    "appreciation": "Copie correcte, raisonnements à justifier davantage.",
                    "total": Decimal(12),
                    "mark_20": Decimal(12),
                    "updated_at": now,
                    "marked_at": now,
                }
                for c in copies
            ],
        )
        markings = dict(session.execute(select(Marking.copy_id, Marking.id)).all())
        first_pages = dict(session.execute(select(Page.copy_id, Page.id).where(Page.position == 0)).all())
        session.execute(
            insert(QuestionMark),
            [
                {"marking_id": markings[c], "question_id": q, "points": Decimal(6)}
                for c in copies
                for q in (q1, q2)
            ],
        )
        session.execute(
            insert(AnnotationLayer),
            [{"marking_id": markings[c], "page_id": first_pages[c], "items": LAYER} for c in copies],
        )
        session.add(
            ResultsPublication(paper_id=paper.id, published_at=now - timedelta(days=3), by_name="Office")
        )
        return paper.id


def bench_letters(url: str, one_by_one: int) -> tuple[float, float, int]:
    """(pages/s all at once, pages/s one candidate at a time, letters)."""
    factory = make_session_factory(make_engine(url))
    with factory() as session:
        chosen = letters.candidates_for(session, paper_code="U3")
        t0 = time.perf_counter()
        issued = letters.issue_codes(session, chosen, OFFICE, "bench", "paper U3")
        pdf = letters.letters_pdf(issued, "https://examens.example.fr/candidate")
        session.commit()
        batch = len(issued) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for candidate in chosen[:one_by_one]:
            one = letters.issue_codes(
                session, [candidate], OFFICE, "bench", f"candidate {candidate.registration}"
            )
            letters.letters_pdf(one, "https://examens.example.fr/candidate")
            session.commit()
        single = one_by_one / (time.perf_counter() - t0)
    print(f"letters PDF: {len(pdf) / 1e6:.1f} MB for {len(issued)} pages", flush=True)
    return batch, single, len(issued)


def accounts(url: str, n: int) -> list[dict]:
    """n activated candidates, a login session each: (cookie, copy token)."""
    factory = make_session_factory(make_engine(url))
    password_hash = auth.hash_password("une phrase assez longue")
    people = []
    now = datetime.now(UTC)
    with factory() as session:
        rows = session.execute(
            select(Candidate, IdentityLink.copy_id)
            .join(IdentityLink, IdentityLink.candidate_id == Candidate.id)
            .order_by(Candidate.id)
            .limit(n)
        ).all()
        for candidate, copy_id in rows:
            user = User(username=candidate.registration, role=Role.CANDIDATE, password_hash=password_hash)
            session.add(user)
            session.flush()
            session.add(CandidateAccount(user_id=user.id, candidate_id=candidate.id, activated_at=now))
            opened = auth.open_session(session, user, SECRET)
            people.append({"cookie": opened.cookie_value, "token": copy_token(SECRET, copy_id)})
        session.commit()
    return people


async def candidate(base: str, person: dict, delay: float, stats: dict) -> None:
    await asyncio.sleep(delay)
    cookies = {auth.SESSION_COOKIE: person["cookie"]}
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as client:
        copy_path = f"/candidate/copies/{person['token']}"
        for kind, path in (
            ("home", "/candidate"),
            ("copy_page", copy_path),
            ("image", copy_path + "/pages/0/image"),
            ("image", copy_path + "/pages/1/image"),
        ):
            t0 = time.perf_counter()
            try:
                response = await client.get(path)
                ok = response.status_code == 200 and len(response.content) > 0
            except httpx.HTTPError:
                ok = False
            stats.setdefault(kind, []).append(1000 * (time.perf_counter() - t0))
            if not ok:
                stats["errors"] = stats.get("errors", 0) + 1


async def play(base: str, people: list[dict], spread: float) -> tuple[dict, float]:
    stats: dict = {}
    rng = random.Random(7)
    t0 = time.monotonic()
    await asyncio.gather(*(candidate(base, p, rng.uniform(0, spread), stats) for p in people))
    return stats, time.monotonic() - t0


async def alone(base: str, people: list[dict]) -> dict:
    stats: dict = {}
    for person in people:
        await candidate(base, person, 0, stats)
    return stats


def start_server(url: str, store: Path, data: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "MASSICOT_SECRET_KEY": SECRET, "MASSICOT_DATA": str(data)}
    massicot = str(Path(sys.executable).parent / "massicot")
    process = subprocess.Popen(
        [massicot, "serve", "--db", url, "--store", str(store), "--port", str(port)],
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


def figures(label: str, stats: dict) -> None:
    for kind in ("home", "copy_page", "image"):
        values = stats.get(kind, [])
        print(
            f"  {label} {kind}: n={len(values)} p50_ms={percentile(values, 50):.1f} "
            f"p95_ms={percentile(values, 95):.1f} p99_ms={percentile(values, 99):.1f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which candidates arrive")
    parser.add_argument("--one-by-one", type=int, default=200, help="letters issued one at a time (baseline)")
    parser.add_argument(
        "--alone", type=int, default=30, help="candidates played one after another (baseline)"
    )
    args = parser.parse_args()
    register_words()
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit(
            "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
        )
    work = Path(tempfile.mkdtemp(prefix="massicot-bench-cand-"))
    cluster = PgCluster(bin_dir=bin_dir, root=Path(tempfile.mkdtemp(prefix="massicot-bench-pg-")))
    server = None
    try:
        cluster.start()
        admin = make_engine(f"{cluster.url}/postgres")
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("CREATE DATABASE bench"))
        admin.dispose()
        url = f"{cluster.url}/bench"
        upgrade_database(url)
        t0 = time.perf_counter()
        seed(url, LocalStore(work / "store"), args.letters)
        print(
            f"setup: {args.letters} candidates with a marked, annotated copy in "
            f"{time.perf_counter() - t0:.0f} s"
        )
        batch, single, n = bench_letters(url, args.one_by_one)
        print(
            f"letters: {n} pages at {batch:.0f} pages/s (codes + audit + PDF, one transaction); baseline "
            f"one candidate at a time: {single:.1f} pages/s; ratio={batch / single:.1f}",
            flush=True,
        )
        people = accounts(url, args.candidates + args.alone)
        loaded, baseline_people = people[: args.candidates], people[args.candidates :]
        server, base = start_server(url, work / "store", work)
        asyncio.run(alone(base, baseline_people[:2]))  # display images made once, before measuring
        base_stats = asyncio.run(alone(base, baseline_people))
        print(
            f"baseline: {len(baseline_people)} candidates alone, one after another, "
            f"errors={base_stats.get('errors', 0)}"
        )
        figures("alone", base_stats)
        stats, seconds = asyncio.run(play(base, loaded, args.spread))
        requests = sum(len(v) for k, v in stats.items() if k != "errors")
        errors = stats.get("errors", 0)
        print(
            f"load: {len(loaded)} candidates arriving over {args.spread:.0f} s, {requests} requests in "
            f"{seconds:.0f} s ({requests / seconds:.1f}/s) errors={errors} "
            f"(machine shared, {os.cpu_count()} cores)"
        )
        figures("load", stats)
        copy_p95, image_p95 = percentile(stats["copy_page"], 95), percentile(stats["image"], 95)
        alone_copy, alone_image = percentile(base_stats["copy_page"], 95), percentile(base_stats["image"], 95)
        print(
            f"ratios under load / alone: copy_page_p95={copy_p95 / max(alone_copy, 0.01):.1f} "
            f"image_p95={image_p95 / max(alone_image, 0.01):.1f}"
        )
        print(
            f"letters_pages_per_s={batch:.0f} candidates={len(loaded)} requests={requests} errors={errors} "
            f"copy_page_p95_ms={copy_p95:.0f} image_p95_ms={image_p95:.0f}"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(20)
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
