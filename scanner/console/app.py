"""The console's routes: thin. Each reads the lot, calls a station service, renders or redirects.

Served on 127.0.0.1 only; requests must name 127.0.0.1/localhost as their host and forms carry
this run's token, so another web page open in the browser cannot act on the station (as the
review page, scanner.review_web). Every sentence goes through the words catalogue (words.py);
a service's refusal is shown in its own plain words.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from massicot_core.errors import UserError
from massicot_core.words import LANGUAGES
from scanner.console.home import StationHome
from scanner.console.scanning import ScanJob, files_work, sane_work, watch_work
from scanner.console.sending import Sender
from scanner.console.words import words_for
from scanner.lot import Lot

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANG_COOKIE = "massicot_station_lang"
STEPS = ("scan", "check", "room", "seal", "send")


@dataclass
class Station:
    home: StationHome
    sender: Sender
    stall_seconds: float | None = None
    test_faults: str | None = None  # SANE test device only (the tests' jams and empty feeders)
    settle: float = 1.0
    jobs: dict[str, ScanJob] = field(default_factory=dict)
    devices: dict[str, str] = field(default_factory=dict)  # lot → the SANE device it was scanned on
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))


def _back(path: str, said: str = "", error: str = "") -> RedirectResponse:
    query = urlencode({k: v for k, v in (("said", said), ("error", error)) if v})
    return RedirectResponse(path + ("?" + query if query else ""), status_code=303)


def create_console_app(station: Station, allowed_hosts: set[str] | None = None) -> FastAPI:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    hosts = allowed_hosts or {"127.0.0.1", "localhost"}
    home = station.home

    @app.middleware("http")
    async def local_only(request: Request, call_next):
        host = (request.headers.get("host") or "").rsplit(":", 1)[0]
        if host not in hosts:
            return Response(words_for("fr")("console.error.local_only"), status_code=403)
        return await call_next(request)

    def lang_of(request: Request) -> str:
        chosen = request.cookies.get(LANG_COOKIE, "fr")
        return chosen if chosen in LANGUAGES else "fr"

    def render(request: Request, template: str, **context) -> HTMLResponse:
        lang = lang_of(request)
        html = env.get_template(template).render(
            t=words_for(lang),
            lang=lang,
            token=station.token,
            said=request.query_params.get("said", ""),
            error=request.query_params.get("error", ""),
            path=request.url.path,
            steps=STEPS,
            **context,
        )
        return HTMLResponse(html)

    def check_token(csrf: str) -> None:
        if not secrets.compare_digest(csrf, station.token):
            raise HTTPException(403, "console.error.form")

    def the_lot(name: str) -> Lot:
        try:
            return home.lot(name)
        except UserError:
            raise HTTPException(404, "console.error.no_lot") from None

    @app.exception_handler(HTTPException)
    async def plain_words(request: Request, exc: HTTPException) -> Response:
        t = words_for(lang_of(request))
        return HTMLResponse(
            f"<!doctype html><p role='alert'>{t(str(exc.detail))}</p>", status_code=exc.status_code
        )

    # -- language

    @app.get("/lang/{code}")
    def language(code: str, next: str = "/start") -> Response:  # noqa: A002 - the usual name
        target = next if next.startswith("/") and not next.startswith("//") else "/start"
        answer = RedirectResponse(target, status_code=303)
        if code in LANGUAGES:
            answer.set_cookie(LANG_COOKIE, code, samesite="strict", httponly=True)
        return answer

    # -- start

    @app.get("/")
    def root() -> Response:
        return RedirectResponse("/start", status_code=303)

    @app.get("/start", response_class=HTMLResponse)
    def start_page(request: Request) -> HTMLResponse:
        return render(request, "start.html", unfinished=home.unfinished(), rolls=home.rolls(), lot=None)

    @app.post("/start")
    async def start_lot(
        paper: str = Form(...),
        centre: str = Form(""),
        roll_known: str = Form(""),
        roll_file: UploadFile | None = File(None),
        csrf: str = Form(""),
    ) -> Response:
        check_token(csrf)
        from scanner.importing import open_lot

        try:
            data = await roll_file.read() if roll_file is not None else b""
            if data:
                roll = home.keep_roll(roll_file.filename or "roll.csv", data)
            elif roll_known:
                roll = home.roll_path(roll_known)
            else:
                raise UserError("console.start.no_roll")
            lot = open_lot(
                home.new_lot_folder(paper.strip().upper()),
                paper,
                roll,
                centre.strip() or None,
                None,
                by=home.operator(),
            )
        except UserError as exc:
            return _back("/start", error=str(exc))
        return _back(f"/lots/{lot.folder.name}/scan")

    # -- scan

    @app.get("/lots/{name}/scan", response_class=HTMLResponse)
    def scan_page(request: Request, name: str) -> HTMLResponse:
        lot = the_lot(name)
        job = station.jobs.get(name)
        devices = []
        if job is None or not job.progress.running:
            from scanner.sane_device import list_devices, profile_for

            try:
                devices = [(d, profile_for(d).name) for d in list_devices()]
            except UserError:
                devices = []
        state = lot.state()
        return render(
            request,
            "scan.html",
            lot=lot,
            name=name,
            info=state.info,
            sealed=bool(state.sealed),
            job=job,
            devices=devices,
        )

    def start_job(name: str, kind: str, work) -> Response:
        running = station.jobs.get(name)
        if running is not None and running.progress.running:
            return _back(f"/lots/{name}/scan", error="console.scan.busy")
        station.jobs[name] = ScanJob(the_lot(name), kind, work).start()
        return _back(f"/lots/{name}/scan")

    @app.post("/lots/{name}/scan/sane")
    def scan_sane(name: str, device: str = Form(...), csrf: str = Form("")) -> Response:
        check_token(csrf)
        lot = the_lot(name)
        faults = station.test_faults if device.startswith("test") else None
        answer = start_job(
            name, "sane", sane_work(lot, device, lot.folder / "spool", station.stall_seconds, faults)
        )
        station.devices[name] = device
        return answer

    @app.post("/lots/{name}/scan/watch")
    def scan_watch(name: str, folder: str = Form(...), csrf: str = Form("")) -> Response:
        check_token(csrf)
        lot = the_lot(name)
        watched = Path(folder).expanduser()
        if not watched.is_dir():
            return _back(f"/lots/{name}/scan", error="console.scan.no_folder")
        return start_job(name, "watch", watch_work(lot, watched, station.settle))

    @app.post("/lots/{name}/scan/files")
    async def scan_files(name: str, files: list[UploadFile] = File(...), csrf: str = Form("")) -> Response:
        check_token(csrf)
        lot = the_lot(name)
        incoming = home.folder / "incoming" / name
        incoming.mkdir(parents=True, exist_ok=True)
        paths = []
        for upload in files:
            target = incoming / Path(upload.filename or "scan").name
            target.write_bytes(await upload.read())
            paths.append(target)
        return start_job(name, "files", files_work(lot, paths))

    @app.post("/lots/{name}/scan/continue")
    def scan_continue(name: str, csrf: str = Form("")) -> Response:
        check_token(csrf)
        job = station.jobs.get(name)
        if job is not None and job.progress.running:
            job.answer("")
            return _back(f"/lots/{name}/scan")
        # stopped by the scanner (switched off and on): the same scan again, as the CLI's rerun
        if job is not None and job.progress.kind == "sane" and job.progress.error:
            return scan_again(name)
        return _back(f"/lots/{name}/scan")

    def scan_again(name: str) -> Response:
        station.jobs.pop(name)
        lot = the_lot(name)
        device = station.devices.get(name, "")
        return start_job(
            name, "sane", sane_work(lot, device, lot.folder / "spool", station.stall_seconds, None)
        )

    @app.post("/lots/{name}/scan/finish")
    def scan_finish(name: str, csrf: str = Form("")) -> Response:
        check_token(csrf)
        job = station.jobs.get(name)
        if job is not None:
            job.stop()
            job.thread.join(timeout=30)
        return _back(f"/lots/{name}/check")

    @app.get("/lots/{name}/progress.json")
    def progress(request: Request, name: str) -> JSONResponse:
        the_lot(name)
        job = station.jobs.get(name)
        t = words_for(lang_of(request))
        body = job.progress.as_json(t) if job is not None else {"running": False, "pages": 0, "last": []}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    @app.get("/lots/{name}/page/{key}.jpg")
    def page_image(name: str, key: str) -> Response:
        from scanner.review_web import thumbnail

        lot = the_lot(name)
        record = lot.state().pages.get(key)
        if record is None:
            raise HTTPException(404, "console.error.no_lot")
        return Response(
            thumbnail(lot, record), media_type="image/jpeg", headers={"Cache-Control": "no-store"}
        )

    # -- check

    @app.get("/lots/{name}/check", response_class=HTMLResponse)
    def check_page(request: Request, name: str) -> HTMLResponse:
        from scanner.report import build_view
        from scanner.review_web import anomaly_items

        lot = the_lot(name)
        view = build_view(lot.state())
        return render(
            request,
            "check.html",
            lot=lot,
            name=name,
            info=view.state.info,
            sealed=bool(view.state.sealed),
            operator=home.operator(),
            items=anomaly_items(view),
            blocking=view.blocking(),
            copies=view.reconciliation.copies,
            counts=view.reconciliation.counts,
        )

    @app.post("/operator")
    def operator(name: str = Form(""), next: str = Form("/start"), csrf: str = Form("")) -> Response:  # noqa: A002
        check_token(csrf)
        target = next if next.startswith("/") and not next.startswith("//") else "/start"
        try:
            home.set_operator(name)
        except UserError as exc:
            return _back(target, error=str(exc))
        return _back(target)

    @app.post("/lots/{name}/decide")
    async def decide(request: Request, name: str, action: str = Form(...), csrf: str = Form("")) -> Response:
        check_token(csrf)
        from scanner.review_web import decide as decide_service

        lot = the_lot(name)
        by = home.operator()
        if by is None:
            return _back(f"/lots/{name}/check", error="console.check.operator_title")
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            said = decide_service(lot, action, form, by)
        except UserError as exc:
            return _back(f"/lots/{name}/check", error=str(exc))
        return _back(f"/lots/{name}/check", said=said)

    # -- room report

    @app.get("/lots/{name}/room", response_class=HTMLResponse)
    def room_page(request: Request, name: str) -> HTMLResponse:
        from scanner import room_report

        lot = the_lot(name)
        state = lot.state()
        return render(
            request,
            "room.html",
            lot=lot,
            name=name,
            info=state.info,
            sealed=bool(state.sealed),
            report=room_report.read(lot),
            roll=state.info.roll,
        )

    @app.post("/lots/{name}/room")
    async def room_save(
        name: str,
        room: str = Form(""),
        registered: str = Form(""),
        present: str = Form(""),
        absent: str = Form(""),
        late: str = Form(""),
        left: str = Form(""),
        incidents: str = Form(""),
        report_scan: UploadFile | None = File(None),
        signing_sheet: UploadFile | None = File(None),
        csrf: str = Form(""),
    ) -> Response:
        check_token(csrf)
        from scanner import room_report

        lot = the_lot(name)
        try:
            sheets = []
            for kind, upload in (("room_report_scan", report_scan), ("signing_sheet", signing_sheet)):
                if upload is not None:
                    data = await upload.read()
                    if data:
                        sheets.append(room_report.Sheet(kind, data, upload.filename or kind))
            room_report.record(
                lot,
                by=home.operator() or _login(),
                room=room,
                registered=_number(registered, "console.room.registered"),
                present=_number(present, "console.room.present"),
                absent=absent,
                late=late,
                left=left,
                incidents=incidents,
                sheets=sheets,
            )
        except UserError as exc:
            return _back(f"/lots/{name}/room", error=str(exc))
        return _back(f"/lots/{name}/seal", said="console.room.saved")

    # -- seal and send

    @app.get("/lots/{name}/seal", response_class=HTMLResponse)
    def seal_page(request: Request, name: str) -> HTMLResponse:
        from scanner import room_report
        from scanner.report import build_view
        from scanner.seal import open_problems

        lot = the_lot(name)
        view = build_view(lot.state())
        return render(
            request,
            "seal.html",
            lot=lot,
            name=name,
            info=view.state.info,
            sealed=bool(view.state.sealed),
            problems=open_problems(view),
            room=room_report.read(lot),
        )

    @app.post("/lots/{name}/seal")
    def seal_lot(name: str, csrf: str = Form("")) -> Response:
        check_token(csrf)
        from scanner import room_report
        from scanner.seal import SealRefused, seal

        lot = the_lot(name)
        if room_report.read(lot) is None:
            return _back(f"/lots/{name}/seal", error="console.seal.no_room")
        try:
            seal(lot, home.operator() or _login())
        except SealRefused as exc:
            return _back(f"/lots/{name}/seal", error="; ".join(exc.problems[:3]))
        except UserError as exc:
            return _back(f"/lots/{name}/seal", error=str(exc))
        return _back(f"/lots/{name}/send", said="console.seal.done")

    @app.get("/lots/{name}/send", response_class=HTMLResponse)
    def send_page(request: Request, name: str) -> HTMLResponse:
        lot = the_lot(name)
        state = lot.state()
        return render(
            request,
            "send.html",
            lot=lot,
            name=name,
            info=state.info,
            sealed=bool(state.sealed),
            server=station.sender.server,
        )

    @app.post("/lots/{name}/send")
    def send_lot(name: str, csrf: str = Form("")) -> Response:
        check_token(csrf)
        lot = the_lot(name)
        if not lot.state().sealed:
            return _back(f"/lots/{name}/send", error="console.send.not_sealed")
        try:
            station.sender.queue(lot.folder)
        except UserError as exc:
            return _back(f"/lots/{name}/send", error=str(exc))
        return _back(f"/lots/{name}/send")

    @app.get("/lots/{name}/send.json")
    def send_status(request: Request, name: str) -> JSONResponse:
        lot = the_lot(name)
        t = words_for(lang_of(request))
        status = station.sender.status_of(lot.folder)
        words = {
            "queued": t("console.send.queued"),
            "sending": t("console.send.sending", done=status.done, total=status.total),
            "waiting": t("console.send.waiting", reason=status.reason, seconds=f"{status.retry_in:.0f}"),
            "sent": t("console.send.sent", copies=status.copies, pages=status.pages),
            "refused": t("console.send.refused", reason=status.reason),
        }.get(status.state, "")
        return JSONResponse(
            {"state": status.state, "done": status.done, "total": status.total, "words": words},
            headers={"Cache-Control": "no-store"},
        )

    return app


def _number(text: str, what: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise UserError("console.room.not_number")
    return int(text)


def _login() -> str:
    from scanner.resolve import default_actor

    return default_actor()
