"""Reading an office table: a CSV (UTF-8, ',' ';' or tab) or XLSX file as text cells.

Reading is pure: a file in, its rows as text with their line numbers (the row number for XLSX),
the header normalised, and the problems of the file in plain words. A workbook's cells stored as
numbers are kept beside their text: an identifier column must know its number may have lost
leading zeros (office.spreadsheet_numbers).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from correction_server.office.import_report import ImportRejected, Problem
from correction_server.office.spreadsheet_numbers import NumberCell
from massicot_core.errors import UserError


@dataclass(frozen=True)
class TableRow:
    line: int
    values: dict[str, str]
    # The cells a workbook stored as numbers, by column (their text is in values too): an
    # identifier column needs to know, since the number may have lost leading zeros.
    # None for a CSV row, or a workbook row without numbers.
    numbers: dict[str, NumberCell] | None = None


@dataclass(frozen=True)
class Table:
    """The cells of a CSV or XLSX file as text, the header normalised, with line numbers."""

    origin: str
    header_line: int
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]
    problems: tuple[Problem, ...] = ()


def read_table(path: Path, header_hint: str | None = None) -> Table:
    """Read a .csv (UTF-8) or .xlsx file. File-level trouble raises ImportRejected at once.

    header_hint: a column name; the first line holding it is the header and lines above it
    (a title, a date: common in office spreadsheets) are skipped.
    """
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return parse_csv(path.read_bytes(), path.name, header_hint)
    if suffix == ".xlsx":
        return read_xlsx(path, header_hint)
    raise UserError(f"{path.name}: give a .csv file (saved as CSV UTF-8) or an .xlsx workbook")


def parse_csv(data: bytes, origin: str, header_hint: str | None = None) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected(
            origin,
            [
                Problem(
                    line,
                    "the file is not UTF-8 text; in your spreadsheet use “Save as” and choose "
                    "“CSV UTF-8”, then import that file",
                )
            ],
        ) from None
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if not first:
        raise ImportRejected(origin, [Problem(0, "the file is empty: the first line must name the columns")])
    # Spreadsheets saving CSV in French use ';' between columns; decide from the header line.
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            records.append((start, cells))
    except csv.Error as exc:
        raise ImportRejected(origin, [Problem(reader.line_num, f"the CSV cannot be read: {exc}")]) from None
    return _table(origin, records, header_hint)


def read_xlsx(path: Path, header_hint: str | None = None) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise ImportRejected(
            path.name,
            [
                Problem(
                    0,
                    "the file is not an Excel workbook (.xlsx); open it in your spreadsheet and save "
                    "it as .xlsx, or as “CSV UTF-8” with a .csv name",
                )
            ],
        ) from None
    records: list[tuple[int, list[str]]] = []
    numbers: dict[int, dict[int, NumberCell]] = {}
    try:
        sheet = workbook.worksheets[0]
        for line, cells in enumerate(sheet.iter_rows(), start=1):
            values = [cell.value for cell in cells]
            records.append((line, [_cell_text(v) for v in values]))
            found = {
                index: NumberCell.of(value, cells[index].number_format)
                for index, value in enumerate(values)
                if isinstance(value, int | float) and not isinstance(value, bool)
            }
            if found:
                numbers[line] = found
    finally:
        workbook.close()
    return _table(path.name, records, header_hint, numbers)


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as the text the user sees (dates as YYYY-MM-DD, 12.0 as 12)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(
    origin: str,
    records: Sequence[tuple[int, list[str]]],
    header_hint: str | None = None,
    numbers: dict[int, dict[int, NumberCell]] | None = None,
) -> Table:
    """numbers: by line, then by column index, the cells a workbook stored as numbers."""
    records = [(n, cells) for n, cells in records if any(c.strip() for c in cells)]
    if not records:
        raise ImportRejected(origin, [Problem(0, "the file is empty: the first line must name the columns")])
    if header_hint is not None:
        at = next((i for i, (_, cells) in enumerate(records) if header_hint in map(_column_name, cells)), 0)
        records = records[at:]
    header_line, header_cells = records[0]
    while header_cells and not header_cells[-1].strip():  # trailing empty spreadsheet columns
        header_cells = header_cells[:-1]
    columns = tuple(_column_name(c) for c in header_cells)
    problems: list[Problem] = []
    rows: list[TableRow] = []
    for line, cells in records[1:]:
        extra = [c for c in cells[len(columns) :] if c.strip()]
        if extra:
            problems.append(
                Problem(
                    line,
                    f"{len(columns) + len(extra)} values but the header (line {header_line}) names "
                    f"{len(columns)} columns",
                )
            )
            continue
        padded = [*cells, *[""] * (len(columns) - len(cells))]
        values = {col: padded[i].strip() for i, col in enumerate(columns)}
        found = numbers.get(line) if numbers else None
        if found:
            rows.append(TableRow(line, values, {columns[i]: c for i, c in found.items() if i < len(columns)}))
        else:
            rows.append(TableRow(line, values))
    return Table(origin, header_line, columns, tuple(rows), tuple(problems))


def _column_name(cell: str) -> str:
    return re.sub(r"[\s-]+", "_", cell.strip().lower())


def parse_date(text: str) -> date:
    """YYYY-MM-DD or DD/MM/YYYY. The ValueError says what is wrong, to follow the column name."""
    match_iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    match_fr = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if match_iso:
        year, month, day = (int(x) for x in match_iso.groups())
    elif match_fr:
        day, month, year = (int(x) for x in match_fr.groups())
    else:
        raise ValueError(f"“{text}” must be written YYYY-MM-DD or DD/MM/YYYY")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"“{text}” is not a real date") from None
