"""Excel output shared by every export: formula injection neutralised, text columns kept as text."""
from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value):
    """A value that Excel shows as typed and never evaluates (OWASP CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def typed_value(value):
    """What the user typed into a cell that ``safe_cell`` wrote (the leading apostrophe removed), so a
    workbook this system produced reads back as it was filled in."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def workbook_bytes(title, headers, rows, widths=None):
    """One sheet: a bold header row, then ``rows``; every cell stored as text."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    for index, width in enumerate(widths or [], start=1):
        ws.column_dimensions[chr(64 + index)].width = width
    bold = Font(bold=True)
    header_cells = []
    for name in headers:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=safe_cell("" if value is None else str(value)))
            cell.number_format = "@"
            cells.append(cell)
        ws.append(cells)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
