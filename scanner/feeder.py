"""What a scan station needs from a document feeder, whatever drives it.

A real SANE scanner (scanner/sane_device.py) and the replay test double
(testkit/replay.py, in the test kit) both implement `Feeder`: the station hands them a
`receive` callback and they call it once per page, as soon as the page is
complete, then report how the feed ended. Pushing pages (instead of returning a
list at the end) is what lets the station write each page durably while the
next sheet is still going through the scanner.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from scanner.sources import SourcePage


class FeedEnd(enum.Enum):
    """How a feed stopped. Values are what the secretary is told to do."""

    EMPTY = "empty"  # the feeder ran out of sheets: the normal end of a feed
    JAMMED = "jammed"
    COVER_OPEN = "cover_open"
    DOUBLE_FEED = "double_feed"
    BUSY = "busy"
    IO_ERROR = "io_error"
    ACCESS_DENIED = "access_denied"
    NOT_FOUND = "not_found"
    CANCELLED = "cancelled"
    HUNG = "hung"  # no page, no status, no exit for the profile's stall time: the station stopped it
    FAILED = "failed"  # anything else the device said; `detail` holds its words

    @property
    def recoverable(self) -> bool:
        """The secretary can fix it at the scanner and go on with the same pile."""
        return self in {FeedEnd.JAMMED, FeedEnd.COVER_OPEN, FeedEnd.DOUBLE_FEED}


# Plain words for each way a feed can stop: what happened, then what to do.
ADVICE: dict[FeedEnd, str] = {
    FeedEnd.EMPTY: "The feeder is empty.",
    FeedEnd.JAMMED: (
        "Paper jam. Open the scanner, remove the jammed sheet, put it back on top of the pile "
        "in the feeder, close the scanner and press Enter."
    ),
    FeedEnd.COVER_OPEN: (
        "The scanner's cover is open. Close it, check the pile is in the feeder and press Enter."
    ),
    FeedEnd.DOUBLE_FEED: (
        "Two sheets went through together. Take them out, put them back on top of the pile and press Enter."
    ),
    FeedEnd.BUSY: (
        "The scanner is being used by another program. Close the other scanning program "
        "(or wait for it to finish) and run the same command again."
    ),
    FeedEnd.IO_ERROR: (
        "The scanner stopped talking to the computer. Check the cable and the power, "
        "switch the scanner off and on, then run the same command again."
    ),
    FeedEnd.ACCESS_DENIED: (
        "This user may not use the scanner. Add the user to the 'scanner' group "
        "(see hardware/README.md), log in again and run the same command."
    ),
    FeedEnd.NOT_FOUND: (
        "The scanner was not found. Check that it is switched on and plugged in, "
        "then list scanners with `massicot scan devices`."
    ),
    FeedEnd.CANCELLED: "Scanning was cancelled at the scanner.",
    FeedEnd.HUNG: (
        "The scanner stopped talking to the computer: no page and no answer for a while, so the station "
        "stopped it. Every page received is kept. Switch the scanner off and on, put the sheets not yet "
        "scanned back in the feeder, then continue (run the same command again)."
    ),
    FeedEnd.FAILED: "The scanner reported a fault.",
}


@dataclass(frozen=True)
class FeedResult:
    end: FeedEnd
    pages: int  # pages handed to `receive` during this feed
    detail: str = ""  # the device's own words, for the log and the operator

    def advice(self) -> str:
        text = ADVICE[self.end]
        shown = self.detail and self.end in (FeedEnd.FAILED, FeedEnd.HUNG)
        return f"{text} ({self.detail})" if shown else text


Receive = Callable[[SourcePage], None]


class Feeder(Protocol):
    """A document feeder the station can run, one feed (one loaded pile) at a time."""

    @property
    def description(self) -> str: ...

    def feed(self, receive: Receive) -> FeedResult:
        """Scan sheets until the feeder stops; call `receive` once per complete page, in order.

        If `receive` raises, the feeder stops the scanner and lets the exception through:
        the page that was being received is then not counted as received.
        """
        ...
