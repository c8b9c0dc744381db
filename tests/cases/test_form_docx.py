"""The report form as DOCX: opened back with python-docx, checked for text, fonts and layout."""

from __future__ import annotations

import io

import docx
from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import Table
from docx.text.run import Run
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.cases.form import CaseForm
from yuqing.cases.form_docx import case_form_docx, clean

HOSTILE = "网传<script>alert('x')</script>&amp;\x00\x07\x1b\x7f\ud800\udfff\ufffe\u202e末尾"
HOSTILE_CLEAN = "网传<script>alert('x')</script>&amp;\x7f末尾"


def full_form(**changes: object) -> CaseForm:
    form = CaseForm(
        number="QS-QJ-2026-0042",
        unit_name="某农商行曲靖分行",
        state_name="处置中",
        source_name="微博",
        captured_by="张三",
        captured_at="2026-05-06 10:00",
        copies="1",
        url="https://weibo.com/1234/abcd",
        topic="网传某支行拒绝兑付存款",
        grade_name="有害",
        category_name="服务风险",
        attachments=["screenshot.png", "page.warc.gz"],
        reporting_opinion="建议报请领导阅示。",
        instruction="请办公室妥善处置，及时续报。",
        instruction_by="李四",
        instruction_at="2026-05-06 11:00",
        handling_opinion="联系平台说明情况。",
        implementation="已发布情况说明。",
        measures=["回复帖子", "发布声明"],
        result_name="已澄清",
        discovered_at="2026-05-06 09:30",
        reported_at="2026-05-06 10:10",
        closed_at="2026-05-08 16:00",
        steps=[("电话报告", "2026-05-06 10:30", "已按时完成（2026-05-06 10:05）")],
        timeline=[
            ("2026-05-06 09:30", "王五", "创建", "从舆情创建"),
            ("2026-05-06 10:10", "王五", "上报", "报请领导阅示"),
        ],
        printed_at="2026-05-09 08:00",
    )
    for name, value in changes.items():
        setattr(form, name, value)
    return form


def render(form: CaseForm) -> Document:
    return docx.Document(io.BytesIO(case_form_docx(form)))


def east_asian(run: Run) -> str | None:
    fonts = run._element.rPr.rFonts if run._element.rPr is not None else None
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def rows(table: Table) -> dict[str, str]:
    """Label → value text of the form table (label cells are the 1st and 3rd)."""
    found: dict[str, str] = {}
    for row in table.rows:
        cells = row.cells
        found[cells[0].text] = cells[1].text
        if cells[2]._tc is not cells[1]._tc:  # not merged into the value
            found[cells[2].text] = cells[3].text
    return found


def test_page_is_a4_with_official_margins() -> None:
    section = render(full_form()).sections[0]
    assert abs(section.page_width.mm - 210) < 0.1 and abs(section.page_height.mm - 297) < 0.1
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(m.mm, 1) for m in margins] == [37.0, 35.0, 28.0, 26.0]


def test_title_number_and_body_fonts() -> None:
    document = render(full_form())
    title = document.paragraphs[0]
    assert title.text == "舆情信息报告处理单"
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert [east_asian(run) for run in title.runs] == ["方正小标宋简体"]
    assert title.runs[0].font.size == Pt(22)
    number = next(p for p in document.paragraphs if p.text.startswith("编号："))
    assert number.text == "编号：QS-QJ-2026-0042"
    assert number.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert east_asian(number.runs[0]) == "仿宋_GB2312" and number.runs[0].font.size == Pt(16)
    normal = document.styles["Normal"]
    assert normal.font.size == Pt(16)
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert document.core_properties.title == "舆情信息报告处理单 QS-QJ-2026-0042"


def test_form_table_holds_every_field() -> None:
    document = render(full_form())
    form_table, timeline = document.tables
    assert form_table.style is not None and form_table.style.name == "Table Grid"
    found = rows(form_table)
    assert found["舆情来源"] == "微博" and found["份数"] == "1"
    assert found["下载人"] == "张三" and found["下载时间"] == "2026-05-06 10:00"
    assert found["下载地址"] == "https://weibo.com/1234/abcd"
    assert found["舆情主题"] == "网传某支行拒绝兑付存款"
    assert found["舆情等级"] == "有害" and found["舆情分类"] == "服务风险"
    assert found["发现时间"] == "2026-05-06 09:30" and found["办结时间"] == "2026-05-08 16:00"
    assert found["附件"] == "screenshot.png\npage.warc.gz"
    assert found["上报意见"] == "建议报请领导阅示。"
    assert (
        found["领导批示"] == "请办公室妥善处置，及时续报。\n签批人：李四　　时间：2026-05-06 11:00"
    )
    assert found["主办意见及落实情况"] == "联系平台说明情况。\n落实情况：已发布情况说明。"
    assert found["处置措施"] == "回复帖子、发布声明"
    assert found["处理结果"] == "已澄清"
    assert found["报告时限"] == "电话报告：2026-05-06 10:30　已按时完成（2026-05-06 10:05）"
    assert "填报单位：某农商行曲靖分行" in [p.text for p in document.paragraphs]
    assert "打印时间：2026-05-09 08:00" in [p.text for p in document.paragraphs]
    assert len(timeline.rows) == 3


def test_labels_are_heiti_and_values_fangsong_in_four_point_size() -> None:
    table = render(full_form()).tables[0]
    for row in table.rows:
        label, value = row.cells[0], row.cells[1]
        for run in label.paragraphs[0].runs:
            assert east_asian(run) == "黑体" and run.font.size == Pt(14)
        for paragraph in value.paragraphs:
            for run in paragraph.runs:
                assert east_asian(run) == "仿宋_GB2312" and run.font.size == Pt(14)


def test_long_text_rows_leave_room_to_write() -> None:
    table = render(full_form()).tables[0]
    heights = {row.cells[0].text: row.height for row in table.rows}
    for label in ("上报意见", "领导批示", "主办意见及落实情况"):
        height = heights[label]
        assert height is not None and height.mm >= 39.9, label
    assert heights["舆情来源"] is None


def test_timeline_table_repeats_its_header() -> None:
    timeline = render(full_form()).tables[1]
    assert [cell.text for cell in timeline.rows[0].cells] == ["时间", "操作人", "操作", "说明"]
    assert [cell.text for cell in timeline.rows[2].cells] == [
        "2026-05-06 10:10",
        "王五",
        "上报",
        "报请领导阅示",
    ]
    assert timeline.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert east_asian(timeline.rows[0].cells[0].paragraphs[0].runs[0]) == "黑体"


def test_footer_has_a_centred_page_field() -> None:
    footer = render(full_form()).sections[0].footer.paragraphs[0]
    assert footer.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert footer.text == "— 1 —"
    xml = footer._p.xml
    assert "<w:instrText" in xml and " PAGE " in xml
    kinds = [el.get(qn("w:fldCharType")) for el in footer._p.iter(qn("w:fldChar"))]
    assert kinds == ["begin", "separate", "end"]


def test_empty_form_renders() -> None:
    document = render(CaseForm())
    assert document.paragraphs[0].text == "舆情信息报告处理单"
    found = rows(document.tables[0])
    assert found["舆情主题"] == "" and found["处置措施"] == ""
    assert [cell.text for cell in document.tables[1].rows[1].cells] == ["", "", "暂无记录", ""]


def test_hostile_crawled_text_is_stripped_not_fatal() -> None:
    form = full_form(
        topic=HOSTILE,
        url="https://x.example/\x00?q=<b>",
        source_name=HOSTILE,
        attachments=[HOSTILE],
        timeline=[("t", HOSTILE, "创建", HOSTILE)],
        number="QS\x01-1",
        unit_name="\ud83d单位",
    )
    document = render(form)
    found = rows(document.tables[0])
    assert found["舆情主题"] == HOSTILE_CLEAN
    assert found["舆情来源"] == HOSTILE_CLEAN
    assert found["附件"] == HOSTILE_CLEAN
    assert found["下载地址"] == "https://x.example/?q=<b>"
    assert document.tables[1].rows[1].cells[3].text == HOSTILE_CLEAN
    assert "编号：QS-1" in [p.text for p in document.paragraphs]
    assert document.core_properties.author == "单位"


def test_clean_keeps_text_and_normalises_line_ends() -> None:
    assert clean("第一行\r\n第二行\r第三行\t制表") == "第一行\n第二行\n第三行\t制表"
    assert clean("emoji 😀 and 𠀀") == "emoji 😀 and 𠀀"


# Any code point, with lone surrogates and control characters (which XML forbids) mixed in.
ANY_CHAR = st.one_of(
    st.characters(codec=None, categories=None),
    st.characters(categories=["Cs", "Cc"]),
    st.sampled_from("\ufffe\uffff\u202e\u2066"),
)


# Rendering a document takes tens of milliseconds: no per-example deadline.
@settings(deadline=None, max_examples=40)
@given(st.text(alphabet=ANY_CHAR, max_size=60))
def test_any_text_renders(text: str) -> None:
    document = render(CaseForm(topic=text, timeline=[(text, text, text, text)]))
    assert rows(document.tables[0])["舆情主题"] == clean(text)
