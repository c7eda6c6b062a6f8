"""What the coordination's rules refuse, in the words catalogue (`coordination.err.<name>`), and
how its pages show a refusal."""

from __future__ import annotations

from massicot_core.errors import Refused, UserError


class CoordinationRefused(Refused):
    """A coordinator's (or second reader's) request the rules refuse; its sentence is the
    catalogue's `coordination.err.<name>` with `values`, in the reader's language."""

    status = 409

    def __init__(self, name: str, **values: object) -> None:
        super().__init__(None, f"coordination.err.{name}", **values)


def in_words(exc: UserError | ValueError, lang: str) -> str:
    """What a page shows of a refusal: in the reader's language when it is in the catalogue,
    else the sentence it carries (a plain UserError, or a number that did not parse)."""
    return exc.words(lang) if isinstance(exc, Refused) else str(exc)
