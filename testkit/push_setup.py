"""What the push tests and the ingest and marking benchmarks need: a seeded server and sealed lots.

- `seed_exam`: a session, a paper, centres with candidates on the roll, tokens.
- `make_sealed_lot`: a lot folder built straight from the manifest schema
  (`scanner.manifest`) with real JPEG images made by OpenCV, sealed as the scan
  station seals it. (It stands in for `massicot scan seal` so the push side can be
  tested on its own; the images are synthetic pages, not scanned booklets.)
- `ServerProcess`: `massicot serve` in a subprocess on 127.0.0.1, on a free port.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import httpx
import numpy as np
from sqlalchemy import select

from correction_server.auth.tokens import issue_centre_token, issue_user_token
from correction_server.db import make_engine, make_session_factory, transaction
from correction_server.models import Candidate, Centre, ExamSession, Paper, RollEntry, User
from correction_server.models.accounts import Role
from massicot_core.contract import (
    IDENTITY_FILE,
    MANIFEST_FILE,
    IdentityFile,
    IdentityLinkEntry,
    Manifest,
    ManifestCopy,
    ManifestPage,
    ManifestSource,
    RollCounts,
)
from massicot_core.identifiers import new_copy_id
from testkit.net import free_port

REPO = Path(__file__).resolve().parent.parent


# --- the server's data -------------------------------------------------------------------


@dataclass
class Exam:
    paper: str
    tokens: dict[str, str]  # centre UAI → token
    candidates: dict[str, list[str]]  # centre UAI → registrations
    corrector_token: str = ""
    office_token: str = ""


def seed_exam(db_url: str, centres: dict[str, int], paper: str = "U3") -> Exam:
    """A paper sat in each centre by `centres[uai]` candidates; a token per centre and role."""
    engine = make_engine(db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            exam_session = session.scalar(select(ExamSession).where(ExamSession.name == "BTS test session"))
            if exam_session is None:
                exam_session = ExamSession(name="BTS test session")
                session.add(exam_session)
                session.flush()
            paper_row = Paper(session_id=exam_session.id, code=paper, title="Paper " + paper)
            session.add(paper_row)
            tokens: dict[str, str] = {}
            candidates: dict[str, list[str]] = {}
            for index, (uai, count) in enumerate(centres.items()):
                tokens[uai] = issue_centre_token(session, uai, f"Centre {uai}")
                centre = session.scalar(select(Centre).where(Centre.uai == uai))
                assert centre is not None
                regs = [f"{paper.replace('-', '')}{index:02d}{n:05d}"[:16] for n in range(count)]
                for reg in regs:
                    candidate = Candidate(
                        registration=reg, surname="Candidate", given_names=reg, centre_id=centre.id
                    )
                    session.add(candidate)
                    session.flush()
                    session.add(RollEntry(candidate_id=candidate.id, paper_id=paper_row.id))
                candidates[uai] = regs
            for username, role in (("corrector1", Role.CORRECTOR), ("office1", Role.OFFICE)):
                if session.scalar(select(User).where(User.username == username)) is None:
                    session.add(User(username=username, role=role))
            session.flush()
            exam = Exam(paper=paper, tokens=tokens, candidates=candidates)
            exam.corrector_token = issue_user_token(session, "corrector1")
            exam.office_token = issue_user_token(session, "office1")
            return exam
    finally:
        engine.dispose()


# --- sealed lots -------------------------------------------------------------------------


def page_jpeg(text: str, width: int = 400, height: int = 566, noise: float = 0.0, seed: int = 0) -> bytes:
    """A real JPEG of a page with `text` written on it (distinct text → distinct bytes)."""
    image = np.full((height, width), 255, np.uint8)
    cv2.putText(image, text, (20, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 0, 2)
    for line in range(120, height - 40, 36):
        cv2.line(image, (20, line), (width - 20, line), 200, 1)
    if noise:
        rng = np.random.default_rng(seed)
        grain = rng.normal(0, noise, image.shape)
        image = np.clip(image.astype(np.float32) + grain, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 75])
    assert ok
    return encoded.tobytes()


def with_marker(jpeg: bytes, marker: str) -> bytes:
    """The same picture with a JPEG comment segment after SOI: different bytes, same pixels."""
    payload = marker.encode()
    segment = b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + segment + jpeg[2:]


@dataclass
class SealedLot:
    folder: Path
    seal: str
    copies: list[str]
    pages: int
    image_bytes: int
    manifest: Manifest = field(repr=False)


def make_sealed_lot(
    folder: Path,
    centre: str,
    paper: str,
    registrations: list[str],
    pages_per_copy: int = 4,
    copy_ids: list[str] | None = None,
    base_jpeg: bytes | None = None,
    big_pages: dict[tuple[int, int], bytes] | None = None,
    page_skew: Callable[[int, int], float] | None = None,
) -> SealedLot:
    """A sealed lot folder: one copy per registration, `pages_per_copy` pages each.

    `base_jpeg` (optional) is one picture reused with a unique marker per page, which makes
    thousands of realistic-size pages cheaply; otherwise each page is drawn. `big_pages`
    replaces chosen (copy index, page number) images. `page_skew(copy index, page number)`
    gives a page's skew_degrees as a scan station would measure it (default 0).
    """
    folder.mkdir(parents=True, exist_ok=True)
    images = folder / "images"
    images.mkdir(exist_ok=True)
    copy_ids = copy_ids or [new_copy_id() for _ in registrations]
    copies = []
    sources = []
    total_bytes = 0
    for index, copy_id in enumerate(copy_ids):
        pages = []
        for number in range(1, pages_per_copy + 1):
            if big_pages and (index, number) in big_pages:
                data = big_pages[(index, number)]
            elif base_jpeg is not None:
                data = with_marker(base_jpeg, f"{copy_id}/{number}/{folder.name}")
            else:
                data = page_jpeg(f"{copy_id} p{number} {folder.name}")
            sha = hashlib.sha256(data).hexdigest()
            (images / f"{sha}.jpg").write_bytes(data)
            total_bytes += len(data)
            source = f"scan.pdf#{len(sources)}"
            sources.append(ManifestSource(source=source, sha256=sha, use="page"))
            skew = page_skew(index, number) if page_skew else 0.0
            pages.append(
                ManifestPage(
                    number=number, image=f"images/{sha}.jpg", sha256=sha, source=source, skew_degrees=skew
                )
            )
        copies.append(ManifestCopy(copy=copy_id, status="ok", pages=pages))
    identity = IdentityFile(
        paper=paper,
        centre=centre,
        links=[IdentityLinkEntry(copy=c, candidate=r) for c, r in zip(copy_ids, registrations, strict=True)],
    )
    identity_raw = identity.model_dump_json(indent=1).encode()
    (folder / IDENTITY_FILE).write_bytes(identity_raw)
    page_count = sum(len(c.pages) for c in copies)
    manifest = Manifest(
        paper=paper,
        centre=centre,
        sealed_at="2024-05-14T21:30:00+02:00",
        sealed_by="operator",
        counts=RollCounts(
            registered=len(copies),
            present=len(copies),
            absent=0,
            blank=0,
            copies=len(copies),
            pages=page_count,
        ),
        copies=copies,
        sources=sources,
        identity_sha256=hashlib.sha256(identity_raw).hexdigest(),
    ).sealed()
    (folder / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=1))
    return SealedLot(folder, manifest.manifest_sha256, copy_ids, page_count, total_bytes, manifest)


def reseal(folder: Path, manifest: Manifest) -> str:
    """Write `manifest` with a correct seal hash (to make a lot that lies consistently)."""
    sealed = manifest.sealed()
    (folder / MANIFEST_FILE).write_text(sealed.model_dump_json(indent=1))
    return sealed.manifest_sha256


# --- the server process ------------------------------------------------------------------


class ServerProcess:
    """`massicot serve` on 127.0.0.1:port, as a real process that can be killed and restarted."""

    def __init__(
        self,
        db_url: str,
        store: Path,
        data_dir: Path,
        port: int | None = None,
        workers: int = 1,
        env: dict[str, str] | None = None,
    ):
        self.extra_env = env or {}
        self.db_url = db_url
        self.store = store
        self.data_dir = data_dir
        self.port = port or free_port()
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, MASSICOT_DATA=str(self.data_dir), **self.extra_env)
        command = [
            sys.executable,
            "-c",
            "from massicot.cli import main; main()",
            "serve",
            "--db",
            self.db_url,
            "--store",
            str(self.store),
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server stopped at start:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/login", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"the server did not answer within {timeout:.0f} s:\n{self.log.read_text()[-3000:]}"
        )

    def kill(self) -> None:
        """SIGKILL, as a power cut or an OOM kill would: no clean shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            # The whole process group: with --workers the worker processes die too.
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
