"""Reading an import file (CSV or XLSX) into rows, and the cells into values.

Plain Python: `read_table` gives the normalised header and the non-empty rows with their
line numbers in the file; the `parse_*` functions turn one cell into a value or raise
`CellError` with a sentence saying what was expected.
"""

import base64
import binascii
import csv
import io
import re
from datetime import date, datetime

from odoo.exceptions import UserError

try:
    import openpyxl
except ImportError:  # pragma: no cover - openpyxl is in Odoo's requirements
    openpyxl = None

INTEGER = re.compile(r"^[+-]?\d+$")
AMOUNT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
TRUE_WORDS = {"1", "true", "yes", "y", "x"}
FALSE_WORDS = {"", "0", "false", "no", "n"}


class CellError(ValueError):
    """A cell that does not hold what its column expects; its message says what to enter."""


def normalise_header(name):
    """'Patient E-mail ' -> 'patient_e-mail'; header names are case-insensitive."""
    return re.sub(r"\s+", "_", str(name or "").strip().lower().lstrip("\ufeff"))


def read_table(env, content, filename):
    """(header, rows) of the base64 `content`: `header` the normalised column names, `rows`
    a list of (line number, {column: cell}) for the rows that are not empty. An XLSX file
    (recognised by its content) is read from its first sheet, anything else as CSV."""
    try:
        data = base64.b64decode(content or b"", validate=True)
    except (binascii.Error, ValueError) as error:
        raise UserError(env._("The file could not be read (it is not base64 data).")) from error
    if not data:
        raise UserError(env._("Choose a file to import (CSV or XLSX)."))
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04":
        table = _read_xlsx(env, data)
    elif name.endswith((".xls", ".ods")) or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UserError(
            env._(
                "%(file)s is not a CSV or XLSX file: save it as XLSX (Excel 2007 or later) or "
                "CSV (UTF-8) and import it again.",
                file=filename or env._("The file"),
            )
        )
    else:
        table = _read_csv(env, data)
    if not table:
        raise UserError(env._("The file is empty: it needs a header row and one row per record."))
    header = [normalise_header(cell) for cell in table[0]]
    rows = []
    for number, cells in enumerate(table, start=1):
        # PostgreSQL stores no NUL character: a file holding one is binary or damaged
        if any(isinstance(cell, str) and "\x00" in cell for cell in cells):
            raise UserError(
                env._(
                    "Line %(line)s of the file holds a NUL character: the file is not plain text "
                    "or is damaged. Save it again as CSV (UTF-8) or XLSX and import it again.",
                    line=number,
                )
            )
        if number == 1:
            continue
        if all(cell is None or str(cell).strip() == "" for cell in cells):
            continue
        rows.append(
            (
                number,
                {column: cells[i] if i < len(cells) else None for i, column in enumerate(header)},
            )
        )
    return header, rows


def _read_csv(env, data):
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    first_line = text.split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(first_line, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise UserError(env._("The CSV file could not be read: %(error)s.", error=error)) from error


def _read_xlsx(env, data):
    if openpyxl is None:  # pragma: no cover
        raise UserError(env._("XLSX files need the openpyxl library: import a CSV file instead."))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - any damaged workbook is one message
        raise UserError(
            env._(
                "The XLSX file could not be read (%(error)s): save it again from Excel.",
                error=error,
            )
        ) from error
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


# ---------------------------------------------------------------------- cells
def parse_text(value):
    """The cell as text; a whole number read from a spreadsheet loses its '.0' (a code)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def parse_integer(env, value, default=None):
    """A whole number; an empty cell gives `default` (an error when None)."""
    text = parse_text(value)
    if text == "":
        if default is None:
            raise CellError(env._("a whole number is required"))
        return default
    if isinstance(value, bool) or not INTEGER.match(text):
        raise CellError(env._("%r is not a whole number", text))
    return int(text)


def parse_amount(env, value, default=None):
    """An amount with a dot for decimals and no thousands separator."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = parse_text(value)
    if text == "":
        if default is None:
            raise CellError(env._("an amount is required"))
        return default
    if not AMOUNT.match(text):
        raise CellError(
            env._(
                "%r is not an amount (write it like 1234.50: a dot for decimals, no thousands "
                "separator or currency sign)",
                text,
            )
        )
    return float(text)


def parse_date(env, value):
    """An ISO date (YYYY-MM-DD), or a date cell of a spreadsheet; empty gives None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = parse_text(value)
    if text == "":
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise CellError(env._("%r is not a date (write it as YYYY-MM-DD)", text)) from None


def parse_bool(env, value):
    if isinstance(value, bool):
        return value
    text = parse_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(env._("%r is not yes or no", text))
