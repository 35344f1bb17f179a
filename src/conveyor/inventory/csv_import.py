"""Stock changes from a CSV file, all or nothing: rows become commands, every problem names its line.

Columns (a header line first; extra spaces and a UTF-8 BOM are fine):
- receipts:    sku,warehouse,quantity,reference
- adjustments: sku,warehouse,delta,reason
- counts:      sku,warehouse,counted,reference
- transfers:   sku,from_warehouse,to_warehouse,quantity

`parse` is pure (text in, commands and problems out); `import_stock` books the commands in a unit of work
the caller owns, and raises `CsvRefused` (so the caller rolls back) on any problem.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from conveyor.inventory.receipts import Ids, StockCommand, book
from conveyor.inventory.schemas import AdjustmentIn, CountIn, CsvKind, ReceiptIn, TransferIn
from conveyor.kernel.errors import DomainError, FieldProblem, ValidationFailed
from conveyor.platform.uow import UnitOfWork

COLUMNS: dict[CsvKind, tuple[str, ...]] = {
    CsvKind.RECEIPTS: ("sku", "warehouse", "quantity", "reference"),
    CsvKind.ADJUSTMENTS: ("sku", "warehouse", "delta", "reason"),
    CsvKind.COUNTS: ("sku", "warehouse", "counted", "reference"),
    CsvKind.TRANSFERS: ("sku", "from_warehouse", "to_warehouse", "quantity"),
}
MODELS: dict[CsvKind, type[BaseModel]] = {
    CsvKind.RECEIPTS: ReceiptIn, CsvKind.ADJUSTMENTS: AdjustmentIn, CsvKind.COUNTS: CountIn,
    CsvKind.TRANSFERS: TransferIn,
}
MAX_ROWS = 20_000
MAX_REPORTED = 50
_CODES = {"missing": "required", "string_too_short": "required", "int_parsing": "invalid_number",
          "int_from_float": "invalid_number", "greater_than_equal": "invalid_quantity",
          "less_than_equal": "invalid_quantity", "string_too_long": "too_long"}


@dataclass(frozen=True)
class LineProblem:
    line: int  # 1 is the header; 0 is the file as a whole
    code: str
    message: str
    column: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.code}: {self.message}"

    def as_field_problem(self) -> FieldProblem:
        path = ".".join(p for p in ("lines", str(self.line), self.column or "") if p) if self.line else None
        return FieldProblem(self.code, str(self), path)


class CsvRefused(ValidationFailed):
    """The file was refused as a whole: nothing of it is written."""

    def __init__(self, problems: list[LineProblem]) -> None:
        shown = problems[:MAX_REPORTED]
        more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
        summary = (f"{shown[0]}{more}" if len(problems) == 1
                   else f"{len(problems)} problems{more}, first: {shown[0]}") + "; nothing was imported"
        super().__init__(shown[0].code, summary, None, [p.as_field_problem() for p in shown])
        self.line_problems = problems


def decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvRefused([LineProblem(0, "invalid_encoding", f"the file is not UTF-8 text ({exc.reason})")]) \
            from None


def parse(kind: CsvKind, text: str) -> tuple[list[tuple[int, StockCommand]], list[LineProblem]]:
    """Every row checked: (line, command) for the good ones and every problem with its line."""
    columns = COLUMNS[kind]
    commands: list[tuple[int, StockCommand]] = []
    problems: list[LineProblem] = []
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [c.strip() for c in reader.fieldnames or []]
        reader.fieldnames = header
        if not header:
            return [], [LineProblem(0, "empty_file", f"no header line; expected {','.join(columns)}")]
        problems += [LineProblem(1, "missing_column", f"the header has no {c!r} column", c)
                     for c in columns if c not in header]
        problems += [LineProblem(1, "unknown_column", f"unknown column {c!r}; expected {','.join(columns)}", c)
                     for c in header if c not in columns]
        if problems:
            return [], problems
        for record in reader:
            line = reader.line_num
            if len(commands) + len(problems) >= MAX_ROWS:
                problems.append(LineProblem(line, "too_many_rows", f"at most {MAX_ROWS} rows per file"))
                break
            if None in record:
                problems.append(LineProblem(line, "too_many_cells", "the row has more cells than the header"))
                continue
            cells = {c: (record.get(c) or "").strip() for c in columns}
            try:
                commands.append((line, MODELS[kind].model_validate(cells)))  # type: ignore[arg-type]
            except ValidationError as exc:
                problems += [LineProblem(line, _CODES.get(e["type"], e["type"]), _message(e, cells),
                                         ".".join(str(p) for p in e["loc"]) or None) for e in exc.errors()]
    except csv.Error as exc:
        problems.append(LineProblem(0, "invalid_csv", str(exc)))
    if not commands and not problems:
        problems.append(LineProblem(0, "no_rows", "the file has a header but no rows"))
    return commands, problems


def _message(error: ErrorDetails, cells: dict[str, str]) -> str:
    column = ".".join(str(p) for p in error["loc"])
    if error["type"] in ("missing", "string_too_short"):
        return f"{column} is empty"
    return f"{column} {cells.get(column, '')!r}: {error['msg']}"


def import_stock(uow: UnitOfWork, kind: CsvKind, data: bytes | str, *, actor: str, at: datetime) -> int:
    """Books every row of the file in the caller's unit of work; raises CsvRefused naming each bad line."""
    commands, problems = parse(kind, decode(data))
    if problems:
        raise CsvRefused(problems)
    ids = Ids.of(uow.conn, [command for _, command in commands])
    for line, command in commands:
        try:
            book(uow, command, actor=actor, at=at, ids=ids)
        except DomainError as exc:
            problems += [LineProblem(line, p.code, p.message, p.field) for p in exc.problems]
            if len(problems) >= MAX_REPORTED:
                break
    if problems:
        raise CsvRefused(problems)
    return len(commands)
