"""Load of a correction evening: many correctors open copies, mark them, annotate, move on.

Starts a throw-away PostgreSQL cluster (made durable: fsync and synchronous commit on) and
`massicot serve` on 127.0.0.1, creates the correctors and their lots, then plays every corrector
for a bounded time from this one asynchronous process (each corrector with his own HTTP/1.1
keep-alive connection, login cookie and CSRF token, as his browser). Afterwards every
acknowledged mark and appreciation is checked against the database: one that differs is lost.

What each corrector does is what the copy view does (correction_server/web/static/marking.js):
the home page once, then for each copy of his lot: the copy view (the marking state comes inside
the page), its page images unless his browser holds them already (served `immutable`, so a
browser does not ask again; anything else would be revalidated with its ETag), then the
autosaves: one per mark typed, one for an annotation layer, two while the appreciation is
written, each carrying every field as the page sends them. Pauses between actions: see
THINK_RANGE below, with the reasoning. Every request is counted, failed ones as errors.

Printed: the baseline (one corrector alone, no pauses, same run, same server), the load the
pacing offers in requests/s, the load measured with per-route figures (the page images' p95 on
a line of its own), the CPU used by the server, PostgreSQL and this load generator (which
shares the machine's cores with the server).

Every page of every copy is its own image, and the copies arrive as scan stations send them:
sealed lots pushed through the push API (`massicot push`), so the server makes each page's
display image at ingest, in the background, as it does for real lots. The load starts once
every display image is there; how long that took is printed in pages/s, beside a baseline:
the same rendering, one page after another, in this process. The scans are 200 dpi booklet
pages drawn by testkit/drawn_pages.py, a few distinct drawings each repeated with a marker
segment per page (distinct bytes, so a distinct image and derivative per page, each decoded
and rendered in full), some pages leaning as a feeder leaves them.

Last line, exactly:
    correctors=<n> requests=<r> errors=<e> lost_marks=<l> p95_ms=<p> p99_ms=<q>
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import insert, select, text

from correction_server.auth import sessions as auth
from correction_server.auth.tokens import issue_centre_token
from correction_server.db import make_engine, make_session_factory
from correction_server.migrate import upgrade_database
from correction_server.models import (
    Candidate,
    Centre,
    Copy,
    CorrectorPaper,
    ExamSession,
    Marking,
    Page,
    Paper,
    Question,
    QuestionMark,
    Role,
    RollEntry,
    User,
)
from correction_server.models.dispatch import CorrectionLot, LotCopy
from correction_server.pages import images as page_images
from correction_server.pages.rendering import derived_dir
from correction_server.pages.store import LocalStore
from paper.copy_model import load_model
from testkit.drawn_pages import DrawnPage, draw_upright, scan_like
from testkit.net import free_port
from testkit.postgres import PgCluster, find_pg_bin
from testkit.push_setup import SealedLot, make_sealed_lot
from testkit.scan_files import encode_jpeg

SECRET = "bench-secret"
COPIES_PER_LOT = 6
MAXIMA = (Decimal(4), Decimal(6), Decimal(10))


CENTRE = "0130040Y"
SCAN_DPI = 200
DISTINCT_DRAWINGS = 12
LOT_COPIES = 250  # copies per sealed lot pushed
PUSHES_AT_ONCE = 2  # stations pushing at the same time


def seed_paper(url: str, copies: int) -> tuple[str, list[str]]:
    """The paper (barème, open window, locked scheme), one centre, its candidates on the roll.

    Returns the centre's push token and the candidates' registration numbers."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    now = datetime.now(UTC)
    with factory() as session, session.begin():
        exam = ExamSession(name="Bench session")
        paper = Paper(
            session=exam,
            code="U3",
            title="Bench",
            max_mark=Decimal(20),
            pages_per_copy=PAGES_PER_COPY,
            window_opens=now - timedelta(days=1),
            window_closes=now + timedelta(days=1),
            scheme_locked_at=now - timedelta(days=2),
        )
        for i, top in enumerate(MAXIMA):
            paper.questions.append(
                Question(position=i, label=f"Q{i + 1}", max_points=top, step=Decimal("0.5"))
            )
        session.add_all([exam, paper])
        token = issue_centre_token(session, CENTRE, "Centre")
        session.flush()
        centre_id = session.scalar(select(Centre.id).where(Centre.uai == CENTRE))
        regs = [f"U3{n:07d}" for n in range(copies)]
        session.execute(
            insert(Candidate),
            [
                {"registration": r, "surname": "Candidate", "given_names": r, "centre_id": centre_id}
                for r in regs
            ],
        )
        ids = session.execute(select(Candidate.id)).scalars().all()
        session.execute(insert(RollEntry), [{"candidate_id": i, "paper_id": paper.id} for i in ids])
    engine.dispose()
    return token, regs


def drawn_scans(count: int) -> list[bytes]:
    """Booklet pages as a 200 dpi scanner delivers them (~300 kB each), all different."""
    model = load_model()
    return [
        encode_jpeg(
            scan_like(draw_upright(DrawnPage(dpi=SCAN_DPI, seed=n, number=2), model), seed=n), SCAN_DPI
        )
        for n in range(count)
    ]


def sealed_lots(root: Path, regs: list[str], scans: list[bytes]) -> list[SealedLot]:
    lots = []
    for start in range(0, len(regs), LOT_COPIES):
        # Each lot reuses the drawings in its own order, every page with its own marker.
        base = scans[(start // LOT_COPIES) % len(scans)]
        lots.append(
            make_sealed_lot(
                root / f"lot{start // LOT_COPIES:03d}",
                CENTRE,
                "U3",
                regs[start : start + LOT_COPIES],
                pages_per_copy=PAGES_PER_COPY,
                base_jpeg=base,
                page_skew=lambda copy, number: (0.0, 0.6, -0.9)[(copy + number) % 3],
            )
        )
    return lots


def push_lots(base: str, token: str, lots: list[SealedLot]) -> None:
    """`massicot push` of every lot, PUSHES_AT_ONCE stations at a time."""
    env = {**os.environ, "MASSICOT_TOKEN": token}
    massicot = str(Path(sys.executable).parent / "massicot")
    waiting = list(lots)
    running: list[subprocess.Popen] = []
    while waiting or running:
        while waiting and len(running) < PUSHES_AT_ONCE:
            lot = waiting.pop(0)
            running.append(
                subprocess.Popen(
                    [massicot, "push", str(lot.folder), "--server", base],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        done = running.pop(0)
        out, err = done.communicate()
        if done.returncode != 0 or not out.startswith("received"):
            raise SystemExit(f"a push failed: {out.strip()} {err.strip()[-500:]}")


def derivative_paths(store: Path, lots: list[SealedLot]) -> list[Path]:
    cache = derived_dir(store)
    return [
        page_images.derivative_path(
            cache, page_images.PageLook(p.sha256, p.rotation, p.skew_degrees), page_images.DEFAULT_WIDTH
        )
        for lot in lots
        for copy in lot.manifest.copies
        for p in copy.pages
    ]


def wait_for_files(paths: list[Path], timeout: float, loads: list[float]) -> list[Path]:
    """The paths still missing once every one exists or `timeout` seconds have passed.

    `loads` receives the machine's load average every few seconds meanwhile (the renderers run
    at low priority: what else runs on the machine decides how fast they go)."""
    deadline = time.monotonic() + timeout
    missing = paths
    while True:
        missing = [p for p in missing if not p.is_file()]
        if not missing or time.monotonic() > deadline:
            return missing
        loads.append(os.getloadavg()[0])
        time.sleep(2.0)


def rendering_baseline(store: Path, lots: list[SealedLot], pages: int) -> float:
    """Pages/s of the same rendering, one page after another in this process (one core)."""
    local = LocalStore(store)
    looks = [
        page_images.PageLook(p.sha256, p.rotation, p.skew_degrees)
        for copy in lots[0].manifest.copies
        for p in copy.pages
    ][:pages]
    scratch = Path(tempfile.mkdtemp(prefix="massicot-bench-render-"))
    try:
        started = time.perf_counter()
        for look in looks:
            page_images.make_derivatives(local, scratch, look, (page_images.DEFAULT_WIDTH,))
        return len(looks) / (time.perf_counter() - started)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def build(url: str, correctors: int) -> list[dict]:
    """Correctors and their lots, in bulk, over the copies received; per corrector: cookie, csrf, copy ids."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        paper = session.scalar(select(Paper).where(Paper.code == "U3"))
        question_ids = [q.id for q in paper.questions]
        copy_ids = session.scalars(select(Copy.id).order_by(Copy.id)).all()
        if len(copy_ids) < correctors * COPIES_PER_LOT:
            raise SystemExit(f"{len(copy_ids)} copies received, {correctors * COPIES_PER_LOT} needed")
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
        users = session.execute(
            select(User.id, User.username).where(User.role == Role.CORRECTOR).order_by(User.id)
        ).all()
        session.execute(
            insert(CorrectorPaper),
            [{"user_id": uid, "paper_id": paper.id, "capacity": COPIES_PER_LOT} for uid, _ in users],
        )
        session.execute(
            insert(CorrectionLot),
            [
                {"paper_id": paper.id, "corrector_id": uid, "number": n + 1, "seed": 1}
                for n, (uid, _) in enumerate(users)
            ],
        )
        lot_ids = dict(session.execute(select(CorrectionLot.corrector_id, CorrectionLot.id)).all())
        mine = {
            uid: copy_ids[n * COPIES_PER_LOT : (n + 1) * COPIES_PER_LOT] for n, (uid, _) in enumerate(users)
        }
        session.execute(
            insert(LotCopy),
            [
                {"lot_id": lot_ids[uid], "copy_id": cid, "position": k, "state": "assigned"}
                for uid, cids in mine.items()
                for k, cid in enumerate(cids)
            ],
        )
        page_ids: dict[str, list[int]] = {}
        for pid, cid in session.execute(select(Page.id, Page.copy_id).order_by(Page.position)):
            page_ids.setdefault(cid, []).append(pid)
        # Logins minted directly: argon2 on 1,000 passwords would measure the hasher, not marking.
        people = []
        for uid, _ in users:
            opened = auth.open_session(session, session.get(User, uid), SECRET)
            people.append(
                {"cookie": opened.cookie_value, "csrf": opened.csrf_token, "copies": list(mine[uid])}
            )
        session.flush()
    engine.dispose()
    return [{**p, "questions": question_ids, "pages": page_ids} for p in people]


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.finished_at: list[float] = []  # time.monotonic() of each answer, beside its latency
        self.by_kind: dict[str, list[float]] = {}
        self.errors = 0
        self.error_samples: list[str] = []
        self.acked: dict[str, dict[int, str]] = {}  # copy -> question -> last acknowledged mark
        self.acked_appreciation: dict[str, str] = {}  # copy -> last acknowledged appreciation
        # From the server's timing headers (MASSICOT_SERVER_TIMING, correction_server.web.timing):
        self.by_worker: dict[str, int] = {}  # server process id -> requests it answered
        self.service: list[float] = []  # ms the application took (request taken -> answer starts)
        self.queued: list[float] = []  # ms before that: accept queue, event loops, this client

    def record(self, kind: str, started: float, response: Reply | None, expected: tuple[int, ...]) -> bool:
        """Every request counts: its latency, and an error unless the answer is one of `expected`."""
        elapsed = (time.perf_counter() - started) * 1000
        self.latencies.append(elapsed)
        self.finished_at.append(time.monotonic())
        self.by_kind.setdefault(kind, []).append(elapsed)
        if response is not None:
            worker = response.headers.get("x-massicot-worker")
            if worker:
                self.by_worker[worker] = self.by_worker.get(worker, 0) + 1
            timing = APP_TIME.search(response.headers.get("server-timing", ""))
            if timing:
                served = float(timing.group(1))
                self.service.append(served)
                self.queued.append(max(0.0, elapsed - served))
        if response is None or response.status_code not in expected:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(
                    f"{kind}: no answer"
                    if response is None
                    else f"{kind}: {response.status_code} {response.text[:200]}"
                )
            return False
        return True


# Pacing, and why. A teacher marks ~120 copies in two weeks of evenings: 5 to 15 minutes per
# copy (read the pages, type the marks, annotate, write the appreciation). The copy view saves
# within a second of each change, so its requests come in short bursts: one save per mark typed,
# one per annotation, one or two while the appreciation is written. Here every action follows
# the previous one after a pause drawn uniformly in THINK_RANGE, so a copy takes about one minute
# instead of 5 to 15: each corrector goes through several copies in a bounded run, and 1,000
# correctors offer 5 to 15 times what 1,000 real teachers marking at the same moment would.
# People do not all start in the same second either: each begins within START_SPREAD seconds.
THINK_RANGE = (2.0, 15.0)
START_SPREAD = 15.0
SAVES_PER_COPY = 6  # Q1, Q2, the annotation layer, Q3, the appreciation in two goes
PAGES_PER_COPY = 2


def offered_rate(correctors: int) -> float:
    """Requests per second the pacing asks for once everyone is marking (images counted once)."""
    requests_per_copy = 1 + PAGES_PER_COPY + SAVES_PER_COPY
    pauses_per_copy = SAVES_PER_COPY + 1
    seconds_per_copy = pauses_per_copy * sum(THINK_RANGE) / 2
    return correctors * requests_per_copy / seconds_per_copy


@dataclass
class Reply:
    status_code: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class Connection:
    """One HTTP/1.1 keep-alive connection, as a browser holds to the server: a few dozen lines,
    so that the load generator, which shares the cores with the server, costs little per request
    (a general-purpose client with a 1,000-connection pool costs several ms of CPU per request)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> Reply:
        head = f"{method} {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        if body or method in ("PUT", "POST"):
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        data = head.encode() + b"\r\n" + body
        for attempt in (1, 2):
            reused = self.writer is not None
            if self.writer is None or self.reader.at_eof():
                await self._open()
            try:
                self.writer.write(data)
                return await self._read_reply()
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                # An idle connection the server closed just as the request left: no byte of it
                # was answered, so it is sent again on a new connection, as browsers do.
                if not reused or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _open(self) -> None:
        await self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def _read_reply(self) -> Reply:
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(p[:-2] for p in parts)
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Reply(status, headers, body)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Browser:
    """One corrector's browser: his connection, cookie and CSRF token, an HTTP cache for images."""

    def __init__(self, base: str, person: dict, stats: Stats) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.connection = Connection(host, int(port))
        self.stats = stats
        self.headers = {
            "X-CSRF-Token": person["csrf"],
            "Accept": "text/html",
            "Cookie": f"{auth.SESSION_COOKIE}={person['cookie']}",
        }
        self.cache: dict[str, tuple[str, bool]] = {}  # url -> (ETag, immutable)

    async def request(
        self,
        kind: str,
        method: str,
        url: str,
        expected: tuple[int, ...] = (200,),
        body: object = None,
        headers: dict[str, str] | None = None,
    ) -> Reply | None:
        """Every request is recorded; the reply is returned when its status is `expected`."""
        data = b"" if body is None else json.dumps(body).encode()
        started = time.perf_counter()
        try:
            reply = await asyncio.wait_for(
                self.connection.request(method, url, headers or self.headers, data), TIMEOUT
            )
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            await self.connection.close()
            reply = None
        return reply if self.stats.record(kind, started, reply, expected) else None

    async def image(self, url: str) -> None:
        cached = self.cache.get(url)
        if cached and cached[1]:
            return  # `immutable`: a browser uses its copy without asking
        headers = {**self.headers, "If-None-Match": cached[0]} if cached else self.headers
        reply = await self.request("page image", "GET", url, (200, 304), headers=headers)
        if reply is not None and reply.status_code == 200 and reply.headers.get("etag"):
            self.cache[url] = (reply.headers["etag"], "immutable" in reply.headers.get("cache-control", ""))

    async def close(self) -> None:
        await self.connection.close()


TIMEOUT = 30.0  # seconds before a request without an answer counts as an error


APP_TIME = re.compile(r"\bapp;dur=([0-9.]+)")
BOOT = re.compile(r'<script id="boot" type="application/json">(.*?)</script>', re.S)


async def corrector(
    base: str, person: dict, stats: Stats, until: float, paced: bool, rng: random.Random, resend: bool = False
) -> None:
    browser = Browser(base, person, stats)
    try:
        await _mark(browser, person, stats, until, paced, rng, resend)
    finally:
        await browser.close()


async def _mark(
    browser: Browser, person: dict, stats: Stats, until: float, paced: bool, rng: random.Random, resend: bool
) -> None:

    async def pause() -> bool:
        if paced:
            await asyncio.sleep(rng.uniform(*THINK_RANGE))
        return time.monotonic() < until

    q1, q2, q3 = person["questions"]
    if paced:
        await asyncio.sleep(rng.uniform(0, START_SPREAD))
    await browser.request("home", "GET", "/marking")
    index = 0
    while await pause():
        copy_id = person["copies"][index % len(person["copies"])]
        index += 1
        response = await browser.request("open copy", "GET", f"/marking/copies/{copy_id}")
        if response is None:
            continue
        # The page carries the marking state; its script reads the version from there.
        version = json.loads(BOOT.search(response.text).group(1))["state"]["version"]
        for page_id in person["pages"][copy_id]:
            await browser.image(f"/marking/pages/{page_id}/image?w=1400")
        marks = {
            q1: str(rng.randint(0, 8) / 2),
            q2: str(rng.randint(0, 12) / 2),
            q3: str(rng.randint(0, 20) / 2),
        }
        layer = [
            {"id": f"t{index}", "kind": "tick", "x": rng.random(), "y": rng.random()},
            {"id": f"p{index}", "kind": "pen", "points": [[rng.random(), rng.random()] for _ in range(30)]},
        ]
        wording = f"Copie {copy_id} : démarche correcte, rédaction à soigner."
        # What the page sends, like marking.js: every field each time, the layer only when it changed.
        typed: dict[str, str] = {}
        steps = [
            ({str(q1): marks[q1]}, "", None),
            ({str(q2): marks[q2]}, "", None),
            ({}, "", {str(person["pages"][copy_id][0]): layer}),
            ({str(q3): marks[q3]}, "", None),
            ({}, wording[: len(wording) // 2], None),
            ({}, wording, None),
        ]
        for new_marks, appreciation, layers in steps:
            if not await pause():
                break
            typed.update(new_marks)
            body = {"version": version, "marks": dict(typed), "appreciation": appreciation, "comments": []}
            if layers:
                body["layers"] = layers
            response = await browser.request("save", "PUT", f"/api/marking/copies/{copy_id}", body=body)
            if response is None and resend:
                response = await _send_again(browser, f"/api/marking/copies/{copy_id}", body)
            if response is not None:
                version = response.json()["version"]
                stats.acked.setdefault(copy_id, {}).update({int(q): v for q, v in typed.items()})
                stats.acked_appreciation[copy_id] = appreciation


async def _send_again(browser: Browser, url: str, body: dict) -> Reply | None:
    """What the copy view does with a save that got no answer (marking.js): the same save 3 s later.
    A 409 then says the first one did reach the database before its answer was lost: the copy
    view shows both versions, and the corrector keeps his (the same marks) on the current version."""
    await asyncio.sleep(3.0)
    reply = await browser.request("save sent again", "PUT", url, (200, 409), body=body)
    if reply is not None and reply.status_code == 409:
        body = {**body, "version": reply.json()["current"]["version"]}
        reply = await browser.request("save sent again", "PUT", url, body=body)
    return reply


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@dataclass
class Run:
    stats: Stats
    seconds: float
    client_cpu: float  # CPU seconds the load generator itself used


async def _run_clients(
    base: str, people: list[dict], seconds: float, paced: bool, seed: int, resend: bool
) -> Run:
    stats = Stats()
    rng = random.Random(seed)
    cpu0, wall0 = time.process_time(), time.monotonic()
    until = time.monotonic() + seconds
    await asyncio.gather(
        *(corrector(base, p, stats, until, paced, random.Random(rng.random()), resend) for p in people)
    )
    return Run(stats, time.monotonic() - wall0, time.process_time() - cpu0)


def run_clients(
    base: str, people: list[dict], seconds: float, paced: bool, seed: int, resend: bool = False
) -> Run:
    """`resend`: a save without an answer is sent again, as the copy view does (bench/scale_out.py,
    where a server process is killed during the run)."""
    import uvloop

    return uvloop.run(_run_clients(base, people, seconds, paced, seed, resend))


def tree_cpu_seconds(root_pid: int, niced_only: bool = False) -> float:
    """CPU seconds used by a process and its descendants (reaped children included), from /proc.

    `niced_only`: only the processes running below normal priority (the page renderers)."""
    parent: dict[int, int] = {}
    used: dict[int, float] = {}
    niced: set[int] = set()
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        parent[int(entry)] = int(fields[1])
        used[int(entry)] = sum(int(v) for v in fields[11:15]) / tick
        if int(fields[16]) > 0:
            niced.add(int(entry))
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        if not niced_only or pid in niced:
            total += used.get(pid, 0.0)
        todo.extend(child for child, up in parent.items() if up == pid)
    return total


def process_cpu_seconds() -> dict[str, float]:
    """CPU seconds each process has used so far, by process id (its own, not its children's)."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                raw = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = raw[raw.rindex(")") + 2 :].split()
            used[entry] = (int(fields[11]) + int(fields[12])) / tick
    return used


def describe_workers(stats: Stats, before: dict[str, float], after: dict[str, float], seconds: float) -> None:
    """Per server process: requests answered and cores used; then queue time against service time."""
    total = sum(stats.by_worker.values()) or 1
    for pid, count in sorted(stats.by_worker.items(), key=lambda item: -item[1]):
        cpu = (after.get(pid, 0.0) - before.get(pid, 0.0)) / seconds
        print(
            f"  server process {pid}: requests={count} ({100 * count / total:.0f} %) cpu_cores={cpu:.2f}",
            flush=True,
        )
    print(
        f"  time before the application (queued) p50_ms={percentile(stats.queued, 50):.1f} "
        f"p95_ms={percentile(stats.queued, 95):.1f}; in it (served) p50_ms="
        f"{percentile(stats.service, 50):.1f} p95_ms={percentile(stats.service, 95):.1f} "
        f"(of {len(stats.service)} answers with the timing header)",
        flush=True,
    )


def lost_marks(url: str, stats: Stats) -> int:
    """Acknowledged marks (and appreciations) the database does not hold as acknowledged."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Marking.copy_id, QuestionMark.question_id, QuestionMark.points).join(
                QuestionMark, QuestionMark.marking_id == Marking.id
            )
        ).all()
        appreciations = dict(conn.execute(select(Marking.copy_id, Marking.appreciation)).all())
    engine.dispose()
    stored = {(c, q): p for c, q, p in rows}
    lost = 0
    for copy_id, marks in stats.acked.items():
        for qid, value in marks.items():
            if stored.get((copy_id, qid)) != Decimal(value):
                lost += 1
    for copy_id, wording in stats.acked_appreciation.items():
        if appreciations.get(copy_id) != wording:
            lost += 1
    return lost


def start_server(url: str, store: Path, data: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "MASSICOT_SECRET_KEY": SECRET,
        "MASSICOT_DATA": str(data),
        "MASSICOT_SERVER_TIMING": "1",
    }
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
            *(["--workers", str(workers)] if workers else []),
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


def describe(label: str, run: Run, extra: str = "") -> float:
    stats = run.stats
    p95 = percentile(stats.latencies, 95)
    print(
        f"{label}: requests={len(stats.latencies)} in {run.seconds:.0f} s "
        f"({len(stats.latencies) / run.seconds:.1f}/s) errors={stats.errors} "
        f"p50_ms={percentile(stats.latencies, 50):.1f} p95_ms={p95:.1f} "
        f"p99_ms={percentile(stats.latencies, 99):.1f}{extra}",
        flush=True,
    )
    for kind, values in sorted(stats.by_kind.items()):
        print(
            f"  {kind}: n={len(values)} p50_ms={percentile(values, 50):.1f} "
            f"p95_ms={percentile(values, 95):.1f} p99_ms={percentile(values, 99):.1f}",
            flush=True,
        )
    return p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--correctors", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument(
        "--workers", type=int, default=0, help="server processes (default: what `massicot serve` picks)"
    )
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
        people_count = args.correctors + 1
        copies = people_count * COPIES_PER_LOT
        t0 = time.perf_counter()
        token, regs = seed_paper(url, copies)
        lots = sealed_lots(work / "lots", regs, drawn_scans(DISTINCT_DRAWINGS))
        pages = sum(lot.pages for lot in lots)
        print(
            f"setup: {copies} copies ({pages} pages, {sum(lot.image_bytes for lot in lots) / 1e9:.1f} GB) "
            f"sealed in {len(lots)} lots, in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        server, base = start_server(url, work / "store", work, args.workers)
        rendered_before = tree_cpu_seconds(server.pid, niced_only=True)
        t0 = time.perf_counter()
        push_lots(base, token, lots)
        pushed = time.perf_counter() - t0
        loads: list[float] = []
        missing = wait_for_files(derivative_paths(work / "store", lots), 3600, loads)
        rendered = time.perf_counter() - t0
        render_cpu = tree_cpu_seconds(server.pid, niced_only=True) - rendered_before
        baseline_rate = rendering_baseline(work / "store", lots, 40)
        print(
            f"ingest: {pages} pages pushed in {pushed:.0f} s ({pages / pushed:.0f} pages/s, "
            f"{PUSHES_AT_ONCE} stations at once)",
            flush=True,
        )
        made = pages - len(missing)
        rate = made / rendered
        print(
            f"pre-rendering: {made} of {pages} display images made at ingest, the last "
            f"{rendered - pushed:.0f} s after the last push; prerender_pages_per_s={rate:.1f} "
            f"(from the first push; renderer CPU {1000 * render_cpu / max(made, 1):.0f} ms/page) "
            f"baseline_pages_per_s={baseline_rate:.1f} (one page after another, one core, this process) "
            f"ratio={rate / baseline_rate:.2f} (load average meanwhile "
            f"{sum(loads) / max(len(loads), 1):.1f} on {os.cpu_count()} cores)",
            flush=True,
        )
        t0 = time.perf_counter()
        people = build(url, people_count)
        print(
            f"correctors: {people_count}, {COPIES_PER_LOT} copies each, in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
        baseline = run_clients(base, people[:1], 5.0, False, args.seed)
        base_p95 = describe("baseline (1 corrector alone, no pauses)", baseline)
        print(
            f"offered load: {args.correctors} correctors, one action every {THINK_RANGE[0]:g}-"
            f"{THINK_RANGE[1]:g} s each, ~{offered_rate(args.correctors):.0f} requests/s once all have "
            f"started (within {START_SPREAD:g} s)",
            flush=True,
        )
        cpu_server, cpu_pg = tree_cpu_seconds(server.pid), tree_cpu_seconds(postmaster)
        per_process = process_cpu_seconds()
        run = run_clients(base, people[1:], args.seconds, True, args.seed)
        per_process_after = process_cpu_seconds()
        cpu_server = tree_cpu_seconds(server.pid) - cpu_server
        cpu_pg = tree_cpu_seconds(postmaster) - cpu_pg
        stats = run.stats
        lost = lost_marks(url, stats)
        p95, p99 = percentile(stats.latencies, 95), percentile(stats.latencies, 99)
        describe(
            "load",
            run,
            f" p95/baseline={p95 / base_p95 if base_p95 else float('nan'):.1f} "
            f"acknowledged_copies={len(stats.acked)}",
        )
        print(
            f"CPU, in cores over the run: server {cpu_server / run.seconds:.2f}, "
            f"PostgreSQL {cpu_pg / run.seconds:.2f}, load generator {run.client_cpu / run.seconds:.2f} "
            f"(machine load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
            flush=True,
        )
        describe_workers(stats, per_process, per_process_after, run.seconds)
        images = stats.by_kind.get("page image", [])
        print(
            f"page images under load: n={len(images)} p95_ms={percentile(images, 95):.1f} "
            f"p99_ms={percentile(images, 99):.1f} (every one pre-rendered, distinct per page)",
            flush=True,
        )
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
