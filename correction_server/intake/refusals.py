"""What the push API refuses, by HTTP status, and the pieces its sentences are made of.

Every refusal of a scan station's push is an `IngestError` (a `Refused`): one subclass per
status, so a route never chooses a status itself. `require_centre` is the first check of every
step: only a centre's station token may push.
"""

from __future__ import annotations

from correction_server.auth.tokens import Principal
from correction_server.models import Role
from massicot_core.errors import Refused

_LISTED = 8  # how many names an error message lists before "and N more"
NOT_IN_PROGRESS = (
    "no push of this lot is in progress on this server: it was never announced, or it stayed "
    "unfinished so long that the exam office dropped it. Push the lot again (`massicot push` sends "
    "its manifest first)"
)
PUSH_DROPPED = (
    "this push stayed unfinished so long that the exam office dropped it while it resumed, with the "
    "images it had sent: push the lot again (`massicot push` starts over by itself)"
)


class IngestError(Refused):
    """A refusal of the push API, with its HTTP status and plain words saying what to do.

    The station prints `detail` as it is (its operator reads it in the station's language);
    `extra` is what the station acts on (e.g. the images to send again).
    """

    status = 400

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(message=detail, extra=extra)
        self.detail = detail


class NotAuthenticated(IngestError):
    status = 401


class Forbidden(IngestError):
    status = 403


class NotFound(IngestError):
    status = 404


class Conflict(IngestError):
    status = 409


class TooLarge(IngestError):
    status = 413


class Invalid(IngestError):
    status = 422


def require_centre(principal: Principal | None) -> Principal:
    if principal is None:
        raise NotAuthenticated(
            "no valid centre token was sent: the scan station needs the token issued by the exam "
            "office (`massicot office centre-token UAI`)"
        )
    if principal.role != Role.CENTRE or principal.centre_id is None:
        raise Forbidden(
            f"only a centre's scan station may push lots; this token belongs to the {principal.role} "
            f"account {principal.username!r}"
        )
    return principal


def plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def listing(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    more = len(names) - _LISTED
    return shown + (f" and {more} more" if more > 0 else "")
