"""Small reportlab helpers for the printable documents (forms, receipts, reports) with Chinese text.

The text font is a TrueType CJK font embedded (subset) in every PDF, so the document renders on machines
without Chinese fonts; reportlab's built-in ``STSong-Light`` is not embedded and shows empty boxes there.
The font file comes from ``CJK_FONT_PATH`` (default: Debian's fonts-wqy-zenhei) and is registered once.

    story = [pdf.paragraph("标题", "title"), pdf.form_table([("单位名称", org.name), ...])]
    data = pdf.build(story, title="…")
"""
import io
import os
from functools import cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT_NAME = "WQY"
DEFAULT_FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
PAGE_WIDTH = A4[0] - 40 * mm   # the text width with the margins of ``build``


@cache
def font():
    """Register the embedded CJK font (once per process) and return its name."""
    path = os.environ.get("CJK_FONT_PATH") or DEFAULT_FONT_PATH
    if not os.path.isfile(path):
        raise RuntimeError(f"CJK font not found: {path} (install fonts-wqy-zenhei or set CJK_FONT_PATH)")
    pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=0))
    return FONT_NAME


@cache
def styles():
    """Paragraph styles by name: ``title``, ``subtitle``, ``body``, ``cell``, ``label``, ``right``, ``note``.
    Every style wraps Chinese text anywhere (``wordWrap="CJK"``)."""
    name = font()
    base = dict(fontName=name, fontSize=11, leading=17, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", **{**base, "fontSize": 16, "leading": 24}, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", **{**base, "fontSize": 14, "leading": 22}, alignment=TA_CENTER),
        "body": ParagraphStyle("body", **base, alignment=TA_LEFT),
        "cell": ParagraphStyle("cell", **base, alignment=TA_LEFT),
        "label": ParagraphStyle("label", **base, alignment=TA_CENTER),
        "right": ParagraphStyle("right", **base, alignment=TA_RIGHT),
        "note": ParagraphStyle("note", **{**base, "fontSize": 10, "leading": 15}, alignment=TA_LEFT),
    }


def text(value):
    """Plain text as paragraph markup: XML-escaped, runs of spaces kept (``Paragraph`` collapses them)."""
    escaped = escape("" if value is None else str(value))
    return escaped.replace("  ", "&nbsp;&nbsp;").replace("\n", "<br/>")


def paragraph(value, style="body"):
    """A paragraph of plain text (escaped) in one of ``styles()``."""
    return Paragraph(text(value), styles()[style] if isinstance(style, str) else style)


def _cell(value, style):
    if isinstance(value, (list, tuple)):
        return [v if not isinstance(v, str) else paragraph(v, style) for v in value]
    return value if not isinstance(value, (str, type(None), int, float)) else paragraph(value, style)


def form_table(rows, label_width=45 * mm, width=PAGE_WIDTH, min_height=None):
    """A two-column form: ``rows`` of ``(label, value)``; a value is text, a flowable, or a list of them.
    ``min_height`` maps a row index to a minimum height (room for a stamp or a signature)."""
    data = [[_cell(label, "label"), _cell(value, "cell")] for label, value in rows]
    heights = [(min_height or {}).get(i) for i in range(len(rows))]
    table = Table(data, colWidths=[label_width, width - label_width], rowHeights=heights)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font()),
        ("GRID", (0, 0), (-1, -1), 0.75, colors.black),
        ("VALIGN", (0, 0), (0, -1), "MIDDLE"),
        ("VALIGN", (1, 0), (1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
    ]))
    return table


def spacer(height_mm=6):
    return Spacer(1, height_mm * mm)


def build(story, *, title="", author="", subject=""):
    """Lay out ``story`` on A4 pages and return the PDF bytes. The output is reproducible (no timestamps or
    random ids): the same story gives the same bytes, so a regenerated document can be recognised."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=title, author=author, subject=subject,
                            initialFontName=font(), invariant=True)
    doc.build(list(story))
    return buffer.getvalue()
