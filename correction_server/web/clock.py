"""The session's clock: every date and time a reader sees, and every one the office types, is in
the session's time zone (Europe/Paris unless the office chose another, e.g. Indian/Reunion).

The database keeps UTC (`db.UtcDateTime`); this module is the ONE place that turns a moment into
words and typed words back into a moment. Pages use the Jinja filter `when`
(`{{ lot.closes|when }}`, `{{ at|when("time") }}`), services and exports `local_text(moment)`.

The zone is an office setting (`office_setting.time_zone`). Each process keeps the zone it last
read and reads it again at most every `REFRESH_SECONDS` (`refresh_zone`, called for every page by
`web.rendering`), so a change reaches every process within that delay.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_ZONE = "Europe/Paris"
SETTING_KEY = "time_zone"
REFRESH_SECONDS = 10.0
# How a moment is written, by use: French day-first order (the product's users are French).
FORMATS = {
    "datetime": "%d/%m/%Y %H:%M",
    "date": "%d/%m/%Y",
    "time": "%H:%M",
    "seconds": "%H:%M:%S",
    "iso": "iso",
}
# What a datetime-local field sends, and the date-and-time forms the office may type.
_TYPED = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S")

_lock = threading.Lock()
_zone_name = DEFAULT_ZONE
_read: dict[str, float] = {}  # database URL -> monotonic time of the last read


class UnknownZone(ValueError):
    """A time zone name the system does not know."""


def zone_name() -> str:
    return _zone_name


def zone() -> ZoneInfo:
    return ZoneInfo(_zone_name)


def check_zone(name: str) -> str:
    """The zone's name if the system knows it (e.g. Europe/Paris, Indian/Reunion, Pacific/Tahiti)."""
    name = (name or "").strip()
    if not name or name not in available_timezones():
        raise UnknownZone(name)
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError:
        raise UnknownZone(name) from None
    return name


def _use(name: str) -> None:
    global _zone_name
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        name = DEFAULT_ZONE  # a setting the system no longer knows: the default, never a 500
    _zone_name = name


def load_zone(session: Session) -> str:
    """Read the office's setting now and use it in this process."""
    from correction_server.models.office import OfficeSetting

    stored = session.scalar(select(OfficeSetting.value).where(OfficeSetting.key == SETTING_KEY))
    with _lock:
        _use(stored or DEFAULT_ZONE)
    return _zone_name


def refresh_zone(factory: sessionmaker[Session], url: str) -> None:
    """Read the setting again if this process has not for REFRESH_SECONDS (or for this database)."""
    now = time.monotonic()
    last = _read.get(url)
    if last is not None and now - last < REFRESH_SECONDS:
        return
    _read.clear()
    _read[url] = now
    with factory() as session:
        load_zone(session)


def set_zone(session: Session, name: str) -> str:
    """The office chooses the session's zone (checked); in use in this process at once."""
    from correction_server.models.office import OfficeSetting

    name = check_zone(name)
    row = session.get(OfficeSetting, SETTING_KEY)
    if row is None:
        session.add(OfficeSetting(key=SETTING_KEY, value=name))
    else:
        row.value = name
    session.flush()
    with _lock:
        _use(name)
    return name


def local(moment: datetime) -> datetime:
    """The moment in the session's zone (a naive moment is taken as UTC, as the database keeps it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone())


def local_text(moment: datetime | date | None, style: str = "datetime") -> str:
    """A moment as the reader sees it, in the session's zone; '' for None. style: FORMATS' keys."""
    if moment is None:
        return ""
    if not isinstance(moment, datetime):  # a plain date has no zone to turn
        return moment.strftime(FORMATS["date"])
    at = local(moment)
    if style == "iso":
        return at.isoformat(timespec="seconds")
    return at.strftime(FORMATS.get(style, style))


def field_value(moment: datetime | None) -> str:
    """A moment as an <input type="datetime-local"> shows it, in the session's zone."""
    return "" if moment is None else local(moment).strftime("%Y-%m-%dT%H:%M")


def parse_local(text: str) -> datetime | None:
    """A date and time the office typed, read in the session's zone, as a UTC moment.

    Empty text is None. A text with its own offset (2026-06-17T23:59:00+02:00) keeps it.
    Raises ValueError when it is neither.
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
        for pattern in _TYPED:
            try:
                moment = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        if moment is None:
            raise ValueError(text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone())
    return moment.astimezone(UTC)


def now() -> datetime:
    return datetime.now(UTC)


def install_filters(env) -> None:
    """`when` for every template: {{ moment|when }} or {{ moment|when("date") }}."""
    env.filters["when"] = local_text
    env.globals["time_zone"] = zone_name
