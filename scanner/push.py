"""`massicot push`: send a sealed lot to the correction server, exactly once, over any network.

The station may be cut off, the server may restart, the operator may close the laptop:
the lot stays in its folder and the next run (or the `--spool` loop) resumes where the
server stopped acknowledging. The protocol is described in `correction_server.api.ingest`:
announce the manifest, send only the images the server lacks (in chunks it acknowledges
one by one), then commit.

Retries (scanner.push_http): connection errors, timeouts and 5xx/429 answers are retried with
exponential backoff and jitter, until the server has given no answer for `give_up_after`
seconds. Anything else the server refuses (4xx) is final and shown in its own plain words.

The file `push-state.json` in the lot folder records what the server acknowledged (for
people, and so a later run can tell what it resumes); the server stays the authority.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from massicot_core.contract import IDENTITY_FILE, MANIFEST_FILE, Manifest
from massicot_core.errors import UserError
from massicot_core.files import sha256_file
from scanner.push_http import Patience, Response, Say, ServerConnections, Transient, detail

STATE_FILE = "push-state.json"
TOKEN_ENV = "MASSICOT_TOKEN"
DEFAULT_CHUNK_BYTES = 1024 * 1024
DEFAULT_GIVE_UP_AFTER = 120.0  # seconds without any answer, without --spool
SPOOL_GIVE_UP_AFTER = 24 * 3600.0  # the spool keeps trying through the night
_HASH_RETRIES = 3  # an image damaged on the way is sent again this many times


class PushRefused(UserError):
    """The server said no for a reason retrying will not change."""


@dataclass(frozen=True)
class SealedLot:
    folder: Path
    manifest: Manifest
    identity_raw: bytes
    images: dict[str, Path]  # sha256 → file
    labels: dict[str, str]  # sha256 → "copy X page N"


@dataclass
class PushOptions:
    server: str
    token: str
    spool: bool = False
    give_up_after: float | None = None
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    parallel: int = 4
    timeout: float = 60.0

    def patience(self) -> float:
        if self.give_up_after is not None:
            return self.give_up_after
        return SPOOL_GIVE_UP_AFTER if self.spool else DEFAULT_GIVE_UP_AFTER


@dataclass
class PushReport:
    seal: str
    state: str  # "received" | "already received"
    copies: int = 0
    pages: int = 0
    images_sent: int = 0
    bytes_sent: int = 0
    images_already_there: int = 0
    retries: int = 0
    seconds: float = 0.0
    messages: list[str] = field(default_factory=list)


# --- the token ---------------------------------------------------------------------------


def default_token_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "massicot" / "token"


def load_token(token_file: Path | None = None) -> str:
    """--token-file, else MASSICOT_TOKEN, else ~/.config/massicot/token. Never a command-line value."""
    if token_file is None and os.environ.get(TOKEN_ENV, "").strip():
        return os.environ[TOKEN_ENV].strip()
    path = token_file or default_token_file()
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        raise UserError(
            f"no centre token: put the token from the exam office in {path} (chmod 600) or in the "
            f"environment variable {TOKEN_ENV}"
        ) from None
    except OSError as exc:
        raise UserError(f"cannot read the token file {path}: {exc.strerror}") from None
    if not token:
        raise UserError(f"the token file {path} is empty: put the centre token from the exam office in it")
    return token


# --- the lot on disk ---------------------------------------------------------------------


def read_sealed_lot(folder: Path) -> SealedLot:
    """Load the lot and check every hash of its seal before anything leaves the station."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST_FILE
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder: give the lot folder")
    if not manifest_path.is_file():
        raise UserError(
            f"the lot in {folder} is not sealed (no {MANIFEST_FILE}): run `massicot scan seal` first"
        )
    _run_station_verifier(folder)
    try:
        manifest = Manifest.model_validate_json(manifest_path.read_bytes())
    except ValidationError as exc:
        raise UserError(
            f"{manifest_path} is not a valid seal manifest ({exc.errors()[0]['msg']}): seal again"
        ) from None
    if not manifest.is_intact():
        raise UserError(
            f"{manifest_path} was changed after sealing (its own hash does not match): seal again"
        )
    try:
        identity_raw = (folder / IDENTITY_FILE).read_bytes()
    except FileNotFoundError:
        raise UserError(f"{IDENTITY_FILE} is missing from {folder}: seal the lot again") from None
    if hashlib.sha256(identity_raw).hexdigest() != manifest.identity_sha256:
        raise UserError(f"{IDENTITY_FILE} in {folder} was changed after sealing: seal the lot again")
    images: dict[str, Path] = {}
    labels: dict[str, str] = {}
    root = folder.resolve()
    for copy in manifest.copies:
        for position, page in enumerate(copy.pages, start=1):
            label = (
                f"copy {copy.copy} page {page.number if page.number is not None else f'{position} (annex)'}"
            )
            path = (folder / page.image).resolve()
            if root not in path.parents:
                raise UserError(f"{label}: its image path {page.image!r} leaves the lot folder; seal again")
            if page.sha256 in images:
                continue
            try:
                actual = sha256_file(path)
            except FileNotFoundError:
                raise UserError(f"{label}: its image {page.image} is missing from the lot folder") from None
            if actual != page.sha256:
                raise UserError(
                    f"{label}: the image {page.image} was changed after sealing; seal the lot again"
                )
            images[page.sha256] = path
            labels[page.sha256] = label
    # The room report's scanned sheets travel as the page images do (the server stores them by hash).
    for document in manifest.room_report.documents if manifest.room_report else []:
        label = document.kind.replace("_", " ")
        path = (folder / document.file).resolve()
        if root not in path.parents:
            raise UserError(f"the {label}'s path {document.file!r} leaves the lot folder; seal again")
        try:
            actual = sha256_file(path)
        except FileNotFoundError:
            raise UserError(f"the {label} {document.file} is missing from the lot folder") from None
        if actual != document.sha256:
            raise UserError(f"the {label} {document.file} was changed after sealing; seal the lot again")
        images.setdefault(document.sha256, path)
        labels.setdefault(document.sha256, label)
    return SealedLot(folder, manifest, identity_raw, images, labels)


def _run_station_verifier(folder: Path) -> None:
    """A lot made by `massicot scan` also has its journal: let the station's own check (which
    also knows whether the lot was unsealed since) speak first. A folder holding only the
    sealed files (copied off the station) is checked by hashes alone, below."""
    if not (folder / "lot.json").is_file():
        return
    from scanner.lot import Lot
    from scanner.seal import verify

    result = verify(Lot.open(folder))
    if result.problems:
        shown = "; ".join(result.problems[:5])
        more = f" (and {len(result.problems) - 5} more)" if len(result.problems) > 5 else ""
        raise UserError(f"the lot in {folder} does not match its seal: {shown}{more}. Seal it again")


# --- the state file ----------------------------------------------------------------------


class StateFile:
    """What the server acknowledged, written atomically (at most once a second while sending)."""

    def __init__(self, folder: Path, server: str, seal: str) -> None:
        self.path = folder / STATE_FILE
        self.server = server
        self.seal = seal
        self.lock = threading.Lock()
        self.acknowledged: set[str] = set()
        self.state = "not started"
        self._written = 0.0
        previous = self.read(folder)
        if previous.get("seal") == seal and previous.get("server") == server:
            self.acknowledged = set(previous.get("acknowledged", []))
            self.state = previous.get("state", self.state)

    @staticmethod
    def read(folder: Path) -> dict:
        try:
            return json.loads((folder / STATE_FILE).read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def acknowledge(self, sha256: str) -> None:
        with self.lock:
            self.acknowledged.add(sha256)
        if time.monotonic() - self._written > 1.0:
            self.save()

    def set(self, state: str) -> None:
        self.state = state
        self.save()

    def save(self) -> None:
        with self.lock:
            body = {
                "server": self.server,
                "seal": self.seal,
                "state": self.state,
                "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "acknowledged": sorted(self.acknowledged),
            }
            tmp = self.path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(body, indent=1))
            os.replace(tmp, self.path)
            self._written = time.monotonic()


def _refused(response: Response, what: str) -> PushRefused:
    return PushRefused(f"the server refused {what} ({response.status_code}): {detail(response)}")


# --- the push ----------------------------------------------------------------------------


def push_lot(folder: Path, options: PushOptions, say: Say = print) -> PushReport:
    started = time.monotonic()
    lot = read_sealed_lot(folder)
    seal = lot.manifest.manifest_sha256
    state = StateFile(lot.folder, options.server, seal)
    if state.state == "received":
        say("this lot was already pushed to this server; asking it again")
    elif state.acknowledged:
        say(f"resuming: the server had acknowledged {len(state.acknowledged)} of {len(lot.images)} images")
    patience = Patience(options.patience(), say)
    server = ServerConnections(options.server, options.token, options.timeout, patience)
    report = PushReport(seal=seal, state="")
    try:
        for _round in range(3):  # a commit that finds images missing goes round once more
            announced = _announce(server, lot)
            if announced["state"] == "already received":
                state.set("received")
                report.state = "already received"
                report.copies, report.pages = announced["copies"], announced["pages"]
                say(f"the server already has this lot: {announced['message']}")
                break
            missing: list[str] = announced["missing"]
            report.images_already_there = len(lot.images) - len(missing)
            for sha in lot.images:
                if sha not in missing:
                    state.acknowledged.add(sha)
            state.set("sending images")
            _check_sizes(lot, missing, int(announced.get("max_page_bytes") or 0))
            there = len(lot.images) - len(missing)
            say(f"{there} of {len(lot.images)} images already on the server; sending {len(missing)}")
            _send_images(server, lot, missing, options, state, report, say)
            response = server.call("POST", f"/api/v1/lots/{seal}/commit")
            if response.status_code == 409 and "missing" in response.json():
                # The server's own words: images lost on its side, or a push the office dropped.
                said = str(response.json().get("detail") or "the server still lacks some images")
                say(f"the server: {said}")
                say("starting over: the lot is announced again and the images it lacks are sent again")
                continue
            if response.status_code not in (200, 201):
                raise _refused(response, "the lot")
            body = response.json()
            report.state = body["state"]
            report.copies, report.pages = body["copies"], body["pages"]
            state.set("received")
            say(body["message"])
            break
        else:
            raise PushRefused(
                "the server keeps reporting images missing after they were sent; call the exam office"
            )
    finally:
        server.close()
        report.retries = patience.retries
        report.seconds = time.monotonic() - started
        if state.state != "received" and state.acknowledged:
            state.save()
    return report


def _announce(server: ServerConnections, lot: SealedLot) -> dict:
    body = {
        "manifest": lot.manifest.model_dump(mode="json"),
        "identity": base64.b64encode(lot.identity_raw).decode("ascii"),
    }
    response = server.call(
        "POST", "/api/v1/lots", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    if response.status_code != 200:
        raise _refused(response, "the lot")
    return response.json()


def _check_sizes(lot: SealedLot, missing: list[str], limit: int) -> None:
    if not limit:
        return
    for sha in missing:
        size = lot.images[sha].stat().st_size
        if size > limit:
            raise PushRefused(
                f"{lot.labels[sha]}: the image is {size / 1e6:.1f} MB, more than the server accepts per page "
                f"({limit / 1e6:.1f} MB). Scan that page again at a lower resolution, seal again, then push"
            )


def _send_images(
    server: ServerConnections,
    lot: SealedLot,
    missing: list[str],
    options: PushOptions,
    state: StateFile,
    report: PushReport,
    say: Say,
) -> None:
    if not missing:
        return
    stop = threading.Event()
    progress = _Progress(len(missing), say)
    counter_lock = threading.Lock()

    def one(sha: str) -> None:
        if stop.is_set():
            return
        sent = _send_image(server, lot, sha, options, stop)
        state.acknowledge(sha)
        with counter_lock:
            report.images_sent += 1
            report.bytes_sent += sent
        progress.tick()

    with ThreadPoolExecutor(max_workers=max(1, options.parallel)) as pool:
        futures = [pool.submit(one, sha) for sha in missing]
        done, _pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in done if f.exception() is not None]
        if failed:
            stop.set()
            for future in futures:
                future.cancel()
            raise failed[0].exception()  # type: ignore[misc]
    state.save()


class _Progress:
    def __init__(self, total: int, say: Say) -> None:
        self.total = total
        self.done = 0
        self.say = say
        self.lock = threading.Lock()
        self.last = time.monotonic()

    def tick(self) -> None:
        with self.lock:
            self.done += 1
            now = time.monotonic()
            if self.done == self.total or now - self.last >= 5.0:
                self.say(f"sent {self.done} of {self.total} images")
                self.last = now


def _send_image(
    server: ServerConnections, lot: SealedLot, sha: str, options: PushOptions, stop: threading.Event
) -> int:
    """Upload one image from where the server stands; returns the bytes sent."""
    # Checked against the seal when the push started; the server checks again on arrival,
    # so a file changed since is caught there (and named below) without hashing it twice here.
    data = lot.images[sha].read_bytes()
    url = f"/api/v1/lots/{lot.manifest.manifest_sha256}/images/{sha}"
    total = len(data)
    offset: int | None = 0  # a fresh image starts at 0; after a cut we ask (None)
    sent = 0
    damaged = 0
    attempt = 0
    while not stop.is_set():
        try:
            if offset is None:
                offset = _server_offset(server, url, lot.labels[sha])
                if offset < 0:
                    return sent
            end = min(total, offset + options.chunk_bytes)
            headers = {"Content-Type": "application/octet-stream"}
            if end > offset:
                headers["Content-Range"] = f"bytes {offset}-{end - 1}/{total}"
            response = server.once("PUT", url, data[offset:end], headers)
        except Transient as exc:
            server.patience.wait(attempt, f"{lot.labels[sha]}: {exc}")
            attempt += 1
            offset = None
            continue
        attempt = 0
        if response.status_code == 200:
            sent += end - offset
            body = response.json()
            if body["complete"]:
                return sent
            offset = int(body["offset"])
        elif response.status_code == 409 and "offset" in response.json():
            offset = int(response.json()["offset"])
        elif response.status_code == 422 and end == total and damaged < _HASH_RETRIES:
            # The last chunk completed a file that does not hash right: damaged on the way,
            # or changed on disk since the seal was checked.
            if hashlib.sha256(data).hexdigest() != sha:
                raise UserError(
                    f"{lot.labels[sha]}: its image changed on disk during the push; seal the lot again"
                )
            damaged += 1
            offset = 0
        else:
            raise _refused(response, lot.labels[sha])
    return sent


def _server_offset(server: ServerConnections, url: str, label: str) -> int:
    """Bytes of the image the server holds; -1 when it already has the whole image."""
    response = server.call("HEAD", url)
    if response.status_code != 200:
        raise PushRefused(f"the server refused {label} ({response.status_code})")
    if response.headers.get("upload-complete") == "1":
        return -1
    return int(response.headers.get("upload-offset", "0"))
