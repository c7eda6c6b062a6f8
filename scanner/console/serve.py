"""Starting the console: the station's folder, its sender, 127.0.0.1, the browser."""

from __future__ import annotations

import webbrowser
from pathlib import Path

from scanner.console.app import Station, create_console_app
from scanner.console.home import StationHome
from scanner.console.sending import Sender


def run_station(
    home: Path,
    *,
    port: int = 0,
    open_browser: bool = True,
    server: str | None = None,
    token: str | None = None,
    stall_seconds: float | None = None,
    test_faults: str | None = None,
    settle: float = 1.0,
    retry_first: float = 5.0,
    send_patience: float = 20.0,
) -> None:
    import uvicorn

    from scanner.review_web import bind_local

    station_home = StationHome(home)
    sender = Sender(station_home, server, token, first_wait=retry_first, patience=send_patience)
    station = Station(
        home=station_home, sender=sender, stall_seconds=stall_seconds, test_faults=test_faults, settle=settle
    )
    sock = bind_local(port)  # 127.0.0.1 only: the console is for this computer
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    sender.start()  # lots queued before a restart leave without anyone asking again
    print(f"Station console: {url}  (Ctrl-C to stop)", flush=True)
    if open_browser:
        webbrowser.open(url)
    app = create_console_app(station)
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])
    finally:
        sender.stop()
        for job in station.jobs.values():
            job.stop()
