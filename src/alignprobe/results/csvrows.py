"""CSV rows with the physical line each one starts on.

A quoted field may span several lines (a model's answer usually does), so a row's index
is not its line number. :func:`read_csv_rows` reads with the standard ``csv`` module and
keeps, for every row, the line where it starts in the file, which every message about
that row names. Blank lines are skipped but counted.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alignprobe.errors import DataError


@dataclass(frozen=True)
class CsvRow:
    line: int
    """1-based physical line of the file where the row starts."""
    cells: list[str]


def column_names(
    header: CsvRow,
    required: Sequence[str],
    path: Path,
    *,
    one_of: Sequence[str] = (),
    hint: str = "",
) -> list[str]:
    """The header's column names; one error at the header's line naming every required
    column that is missing (``one_of``: at least one of these), and ``hint`` after it."""
    names = [cell.strip() for cell in header.cells]
    missing = [c for c in required if c not in names]
    wanted = list(required)
    if one_of:
        alternatives = " or ".join(one_of)
        wanted.append(alternatives)
        if not set(one_of) & set(names):
            missing.append(alternatives)
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; expected {', '.join(wanted)}{hint}",
            source=path,
            line=header.line,
        )
    return names


def read_csv_rows(path: Path) -> tuple[CsvRow, list[CsvRow]]:
    """The header row and the data rows of ``path`` (UTF-8, an optional BOM)."""
    if not path.is_file():
        raise DataError("file not found", source=path)
    rows: list[CsvRow] = []
    end = 0  # last physical line consumed so far
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise DataError(f"not a readable CSV: {exc}", source=path, line=end + 1) from None
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"not UTF-8 text ({exc.reason} at byte {exc.start})", source=path, line=end + 1
                ) from None
            start, end = end + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                rows.append(CsvRow(start, cells))
    if not rows:
        raise DataError("empty file: no header row and no data", source=path)
    return rows[0], rows[1:]
