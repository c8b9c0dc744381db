"""The report form as a Word document in official-document style (GB/T 9704 habits).

A4 with margins 37/35/28/26 mm (top/bottom/left/right); the title in 方正小标宋简体 二号; body
text in 仿宋_GB2312 三号, 四号 inside tables, labels in 黑体; page numbers "— 1 —" centred in
the footer. Latin letters and digits use Times New Roman, as official templates do. Fonts are
named, not embedded: Word substitutes a near one where the font is not installed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from yuqing.cases.form import CaseForm

TITLE = "舆情信息报告处理单"
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
LABEL_FONT = "黑体"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"
TITLE_SIZE = Pt(22)  # 二号
BODY_SIZE = Pt(16)  # 三号
TABLE_SIZE = Pt(14)  # 四号
BODY_LINE = Pt(28.95)  # 22 lines on the type area, as GB/T 9704 asks
WRITING_HEIGHT = Mm(40)  # room to write an opinion or instruction by hand

# XML 1.0 allows tab, LF, CR and these ranges; python-docx refuses anything else. Bidi
# overrides and isolates are allowed but let crawled text disguise itself in print: drop them.
_NOT_XML = re.compile(
    "[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u202a-\u202e\u2066-\u2069]"
)


def clean(text: str) -> str:
    """Text safe for a .docx: characters XML forbids (controls, lone surrogates) removed."""
    return _NOT_XML.sub("", text).replace("\r\n", "\n").replace("\r", "\n")


def _fonts(run: Run, east_asian: str, size: Length) -> None:
    run.font.name = LATIN_FONT  # w:ascii and w:hAnsi
    run.font.size = size
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asian)


def _write(paragraph: Paragraph, text: str, east_asian: str, size: Length) -> Run:
    run = paragraph.add_run(clean(text))  # "\n" becomes a line break
    _fonts(run, east_asian, size)
    return run


def _body_paragraph(
    doc: DocxDocument, text: str, align: WD_ALIGN_PARAGRAPH, font: str
) -> Paragraph:
    paragraph = doc.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph.paragraph_format.line_spacing = BODY_LINE
    _write(paragraph, text, font, BODY_SIZE)
    return paragraph


def _label(cell: _Cell, text: str) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _write(paragraph, text, LABEL_FONT, TABLE_SIZE)


def _value(cell: _Cell, *lines: str) -> None:
    """Text into a cell: the first line into its paragraph, each further one a new paragraph."""
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    for index, line in enumerate(lines):
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        _write(paragraph, line, BODY_FONT, TABLE_SIZE)


def _widths(table: Table, widths: Sequence[Length]) -> None:
    """Fixed column widths, in the grid (LibreOffice reads it) and in each cell (Word does)."""
    table.autofit = False
    for column, width in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
        column.w = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=False):
            cell.width = width


def _repeat_header(table: Table) -> None:
    """Repeat the first row at the top of each page the table runs onto."""
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _form_table(doc: DocxDocument, form: CaseForm) -> None:
    """The bordered form: 4 columns, label | value | label | value, long rows merged."""
    pairs: list[tuple[str, str, str, str]] = [
        ("舆情来源", form.source_name, "份数", form.copies),
        ("下载人", form.captured_by, "下载时间", form.captured_at),
        ("舆情等级", form.grade_name, "舆情分类", form.category_name),
        ("发现时间", form.discovered_at, "上报时间", form.reported_at),
        ("当前状态", form.state_name, "办结时间", form.closed_at),
    ]
    instruction = [
        form.instruction,
        f"签批人：{form.instruction_by}　　时间：{form.instruction_at}",
    ]
    handling = [form.handling_opinion]
    if form.implementation:
        handling.append(f"落实情况：{form.implementation}")
    wide: list[tuple[str, list[str], bool]] = [
        ("下载地址", [form.url], False),
        ("舆情主题", [form.topic], False),
        ("附件", list(form.attachments) or [""], False),
        ("上报意见", [form.reporting_opinion], True),
        ("领导批示", instruction, True),
        ("主办意见及落实情况", handling, True),
        ("处置措施", ["、".join(form.measures)], False),
        ("处理结果", [form.result_name], False),
        ("报告时限", [f"{name}：{due}　{state}" for name, due, state in form.steps] or [""], False),
    ]
    table = doc.add_table(rows=len(pairs) + len(wide), cols=4)
    table.style = "Table Grid"
    _widths(table, [Mm(30), Mm(48), Mm(30), Mm(48)])
    for row, (label_a, value_a, label_b, value_b) in zip(table.rows, pairs, strict=False):
        cells = row.cells
        _label(cells[0], label_a)
        _value(cells[1], value_a)
        _label(cells[2], label_b)
        _value(cells[3], value_b)
    for row, (label, lines, tall) in zip(table.rows[len(pairs) :], wide, strict=True):
        cells = row.cells
        _label(cells[0], label)
        merged = cells[1].merge(cells[3])
        _value(merged, *lines)
        if tall:
            merged.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP
            row.height = WRITING_HEIGHT
            row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST


def _timeline_table(doc: DocxDocument, form: CaseForm) -> None:
    entries = form.timeline or [("", "", "暂无记录", "")]
    table = doc.add_table(rows=1 + len(entries), cols=4)
    table.style = "Table Grid"
    for cell, label in zip(table.rows[0].cells, ("时间", "操作人", "操作", "说明"), strict=True):
        _label(cell, label)
    _repeat_header(table)
    for row, entry in zip(table.rows[1:], entries, strict=True):
        for cell, text in zip(row.cells, entry, strict=True):
            _value(cell, text)
    _widths(table, [Mm(38), Mm(28), Mm(30), Mm(60)])


def _field_char(paragraph: Paragraph, kind: str) -> None:
    run = paragraph.add_run()
    _fonts(run, PAGE_NUMBER_FONT, TABLE_SIZE)
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    run._element.append(char)


def _page_number_footer(doc: DocxDocument) -> None:
    """ "— N —" centred, N a PAGE field that Word fills in on each page."""
    paragraph = doc.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _write(paragraph, "— ", PAGE_NUMBER_FONT, TABLE_SIZE)
    _field_char(paragraph, "begin")
    instruction = paragraph.add_run()
    _fonts(instruction, PAGE_NUMBER_FONT, TABLE_SIZE)
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = " PAGE "
    instruction._element.append(code)
    _field_char(paragraph, "separate")
    _write(paragraph, "1", PAGE_NUMBER_FONT, TABLE_SIZE)  # shown until Word updates the field
    _field_char(paragraph, "end")
    _write(paragraph, " —", PAGE_NUMBER_FONT, TABLE_SIZE)


def _page_setup(doc: DocxDocument) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = doc.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = BODY_SIZE
    rpr = normal.element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:eastAsia"), "zh-CN")
    rpr.append(lang)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)


def case_form_docx(form: CaseForm) -> bytes:
    """The filled report form as .docx bytes."""
    doc = Document()
    _page_setup(doc)
    props = doc.core_properties
    props.title = clean(f"{TITLE} {form.number}".strip())
    props.author = clean(form.unit_name)
    props.last_modified_by = ""
    props.comments = ""
    props.created = props.modified = datetime.now(UTC)  # the template says 2013

    title = doc.paragraphs[0] if doc.paragraphs else doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(16)
    _write(title, TITLE, TITLE_FONT, TITLE_SIZE)

    _body_paragraph(doc, f"编号：{form.number}", WD_ALIGN_PARAGRAPH.RIGHT, BODY_FONT)
    if form.unit_name:
        _body_paragraph(doc, f"填报单位：{form.unit_name}", WD_ALIGN_PARAGRAPH.LEFT, BODY_FONT)
    _form_table(doc, form)
    _body_paragraph(doc, "处理过程", WD_ALIGN_PARAGRAPH.LEFT, LABEL_FONT)
    _timeline_table(doc, form)
    if form.printed_at:
        _body_paragraph(doc, f"打印时间：{form.printed_at}", WD_ALIGN_PARAGRAPH.RIGHT, BODY_FONT)
    _page_number_footer(doc)

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
