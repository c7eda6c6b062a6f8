"""Identifiers that a spreadsheet stored as numbers.

A spreadsheet turns a cell typed 0123456789 into the number 123456789 unless its column is
formatted as text, shows long numbers as 1.23E+08, and keeps only 15 significant digits. An
identifier read back from such a cell may have lost its leading zeros, or digits, and then
matches neither the label printed for the candidate nor the roll. These functions decide, for
one numeric cell of an identifier column, whether its text can be known for sure (and say so
when zeros were put back) or must be refused with what to do.

CSV files never reach here: their cells are text, kept as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Spreadsheets (Excel, LibreOffice) keep 15 significant digits; beyond, digits are rounded away.
EXACT_DIGITS = 15
# A number format showing an exponent (0.00E+00, ##0.0E+0), outside quoted literal text.
_EXPONENT_FORMAT = re.compile(r"E[+-]", re.IGNORECASE)
_QUOTED = re.compile(r'"[^"]*"')


@dataclass(frozen=True)
class NumberCell:
    """A spreadsheet cell that holds a number, as the workbook stores it."""

    value: int | float
    scientific: bool = False  # its number format shows an exponent, like 1.23E+08

    @classmethod
    def of(cls, value: int | float, number_format: str | None) -> NumberCell:
        shown = _QUOTED.sub("", number_format or "")
        return cls(value, bool(_EXPONENT_FORMAT.search(shown)))

    @property
    def shown(self) -> str:
        if isinstance(self.value, int):
            return str(self.value)
        if self.value.is_integer() and abs(self.value) < 10**EXACT_DIGITS:
            return str(int(self.value))
        return format(self.value, ".15g")


@dataclass(frozen=True)
class Reading:
    """What a numeric identifier cell is taken to be: text (maybe with a note), or a refusal."""

    text: str | None = None
    note: str | None = None
    refusal: str | None = None


def _as_text_advice(column: str) -> str:
    return (
        f"format the {column} column as text in the spreadsheet and export the file again, "
        "so that every code keeps its leading zeros"
    )


def _unreadable(column: str, cell: NumberCell) -> str | None:
    """Why the digits of this number cannot be trusted at all, whatever the column's format."""
    if cell.scientific:
        return (
            f"{column} {cell.shown} is a number shown in scientific notation in the spreadsheet "
            f"(like 1.23E+08), which rounds digits away and drops leading zeros: {_as_text_advice(column)}"
        )
    if (isinstance(cell.value, float) and not cell.value.is_integer()) or cell.value < 0:
        return (
            f"{column} {cell.shown} is a number with a decimal part or a sign in the spreadsheet, "
            f"not a code: {_as_text_advice(column)}"
        )
    if abs(cell.value) >= 10**EXACT_DIGITS:
        return (
            f"{column} {cell.shown} is a number of more than {EXACT_DIGITS} digits in the spreadsheet, "
            f"which keeps only {EXACT_DIGITS} digits exactly: {_as_text_advice(column)}"
        )
    return None


def read_digits(column: str, cell: NumberCell, digits: int | None, option: str) -> Reading:
    """An identifier made of digits, stored as a number.

    digits: the fixed number of digits every such identifier has, when known (option: how the
    user states it). Zeros are put back only then, and only in front: a number with fewer digits
    can only be that identifier with its leading zeros dropped. Without a fixed length the same
    number could stand for 123456789 or 0123456789, so the line is refused.
    """
    reason = _unreadable(column, cell)
    if reason:
        return Reading(refusal=reason)
    number = str(int(cell.value))
    if digits is None:
        return Reading(
            refusal=(
                f"{column} {number} was stored as a number in the spreadsheet, so any zeros it began "
                f"with are lost and the real {column} cannot be known: {_as_text_advice(column)} "
                f"(or, if every {column} has the same number of digits N, run the import again "
                f"with {option} N)"
            )
        )
    if len(number) > digits:
        return Reading(
            refusal=(
                f"{column} {number} was stored as a number in the spreadsheet and has {len(number)} "
                f"digits, more than the {digits} given with {option}: check this {column} and the option"
            )
        )
    if len(number) == digits:
        return Reading(text=number)  # nothing can have been dropped
    restored = number.zfill(digits)
    return Reading(
        text=restored,
        note=(f"{column} {number} was stored as a number in the spreadsheet; read as {restored}: check it"),
    )


def read_uai(column: str, cell: NumberCell) -> Reading:
    """A UAI code (7 digits then a letter) can never be a number: the letter, at least, is gone."""
    reason = _unreadable(column, cell)
    if reason:
        return Reading(refusal=reason)
    return Reading(
        refusal=(
            f"{column} {cell.shown} was stored as a number in the spreadsheet, but a UAI code is "
            f"7 digits then a capital letter (e.g. 0130040Y): write the whole code, "
            f"{_as_text_advice(column)}"
        )
    )


def read_code(column: str, cell: NumberCell) -> Reading:
    """A code that may be digits only (a paper code such as 21): kept as written when whole.

    Whether zeros were dropped is only known against the codes that exist; the caller says so
    when the code is unknown.
    """
    reason = _unreadable(column, cell)
    if reason:
        return Reading(refusal=reason)
    return Reading(text=str(int(cell.value)))


def lost_zeros_of(code: str, known: list[str]) -> str | None:
    """The known code that `code` is once its leading zeros are dropped (0101 for 101), if any."""
    if not code.isdigit():
        return None
    return next((k for k in known if k != code and k.isdigit() and k.lstrip("0") == code.lstrip("0")), None)
