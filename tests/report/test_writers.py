"""Writers: LaTeX booktabs, Markdown, HTML, CSV and Word three-line tables."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd
import pytest

from agglomera import datasets, describe
from agglomera.report import (
    THREE_LINE_CSS,
    ModelColumn,
    Table,
    docx_bytes,
    escape_latex,
    to_csv,
    to_html,
    to_latex,
    to_markdown,
    write_docx,
)
from agglomera.report.markdown import unescape_markdown

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def reg() -> Table:
    m1 = ModelColumn(
        "TWFE",
        coef={"treated_post": 0.12345, "rd": -0.5},
        se={"treated_post": 0.04, "rd": 0.25},
        pvalue={"treated_post": 0.0099, "rd": 0.05},
        stats={"n_obs": 5436, "r2": 0.71234},
    )
    m2 = ModelColumn(
        "TWFE",
        coef={"treated_post": 0.2, "rd": 0.3},
        se={"treated_post": 0.1, "rd": 0.2},
        pvalue={"treated_post": 0.01, "rd": 0.5},
        stats={"n_obs": 1234567, "r2": 0.5},
    )
    m3 = ModelColumn(
        "CS",
        coef={"treated_post": 0.3},
        se={"treated_post": 0.2},
        pvalue={"treated_post": 0.2},
        stats={"n_obs": 900},
    )
    return Table.regression(
        [m1, m2, m3],
        title="Pilot effect on R&D talent (10% sample)",
        label="tab:did",
        coef_names={"rd": "R&D_exp {log}"},
        fixed_effects={"Unit FE": [True, True, True], "Year FE": [False, True, True]},
        notes=["Cities: Hangzhou & Ningbo; 50% of #1 ~ $2^3$ \\ end"],
    )


@pytest.fixture(scope="module")
def reg_zh() -> Table:
    m1 = ModelColumn(
        "TWFE",
        {"treated_post": 0.1},
        {"treated_post": 0.02},
        {"treated_post": 0.001},
        {"n_obs": 5436},
    )
    m2 = ModelColumn(
        "TWFE", {"treated_post": 0.2}, {"treated_post": 0.2}, {"treated_post": 0.4}, {"n_obs": 5436}
    )
    return Table.regression(
        [m1, m2],
        title="创新型城市试点与人才集聚",
        language="zh",
        stats=("n_obs",),
        fixed_effects={"Unit FE": [True, True], "Year FE": [False, True]},
    )


@pytest.fixture(scope="module")
def cities() -> Table:
    df = pd.DataFrame(
        {
            "city": ["<script>alert(1)</script>", "A|B & C", "杭州"],
            "region": ["East", "East", "West"],
            "lq": [1.5, 0.25, 2.0],
        }
    )
    return Table.from_frame(
        df,
        index="city",
        panels="region",
        title="LQ <b>by</b> city",
        label="tab:lq",
        notes=["x < 1 & y > 2"],
    )


# ---------------------------------------------------------------------- LaTeX
def test_escape_latex_specials() -> None:
    assert escape_latex("R&D 10% $5 #1 a_b {x} ~ ^ \\") == (
        r"R\&D 10\% \$5 \#1 a\_b \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )
    assert escape_latex("p<0.1, R²") == r"p\textless{}0.1, R\textsuperscript{2}"
    assert escape_latex("杭州") == "杭州"


def test_latex_booktabs_structure_escaping_and_notes(reg: Table) -> None:
    tex = to_latex(reg)
    assert tex.count(r"\toprule") == 1
    assert tex.count(r"\bottomrule") == 1
    assert tex.count(r"\midrule") == 2  # under the header, between coefficients and stats
    assert tex.startswith("\\begin{table}[htbp]\n\\centering\n")
    assert r"\caption{Pilot effect on R\&D talent (10\% sample)}" in tex
    assert r"\label{tab:did}" in tex
    assert r"\begin{tabular}{lccc}" in tex
    assert r" & \multicolumn{2}{c}{TWFE} & \multicolumn{1}{c}{CS} \\" in tex
    assert r"\cmidrule(lr){2-3} \cmidrule(lr){4-4}" in tex
    assert r" & (1) & (2) & (3) \\" in tex
    assert r"Treated \ensuremath{\times} Post & 0.123*** & 0.200** & 0.300 \\" in tex
    assert r" & (0.040) & (0.100) & (0.200) \\" in tex
    assert r"R\&D\_exp \{log\} & -0.500* & 0.300 &  \\" in tex
    assert r"Observations & 5,436 & 1,234,567 & 900 \\" in tex
    assert r"Year FE & No & Yes & Yes \\" in tex
    assert r"* p\textless{}0.1, ** p\textless{}0.05, *** p\textless{}0.01" in tex
    assert r"Standard errors in parentheses." in tex
    assert (
        r"Cities: Hangzhou \& Ningbo; 50\% of \#1 \textasciitilde{} \$2\textasciicircum{}3\$"
        r" \textbackslash{} end"
    ) in tex
    assert (
        r"{\footnotesize\raggedright Standard errors in parentheses.\par * p\textless{}0.1" in tex
    )
    assert "threeparttable" not in tex
    order = [
        tex.index(s)
        for s in (
            r"\toprule",
            r"\cmidrule",
            r" & (1)",
            r"\midrule",
            "Treated",
            "Unit FE",
            r"\bottomrule",
            "Standard errors",
        )
    ]
    assert order == sorted(order)


def test_latex_threeparttable_panels_and_chinese(cities: Table, reg_zh: Table) -> None:
    tex = to_latex(cities, threeparttable=True)
    assert r"\begin{threeparttable}" in tex and r"\end{threeparttable}" in tex
    assert r"\begin{tablenotes}[flushleft]" in tex
    assert r"\item x \textless{} 1 \& y \textgreater{} 2" in tex
    assert r"\multicolumn{2}{l}{\textit{Panel A: East}} \\" in tex
    assert r"\multicolumn{2}{l}{\textit{Panel B: West}} \\" in tex
    assert tex.count(r"\midrule") == 2
    assert r"\textless{}script\textgreater{}alert(1)\textless{}/script\textgreater{}" in tex
    assert r"A|B \& C & 0.250 \\" in tex
    assert r"杭州 & 2.000 \\" in tex
    zh = to_latex(reg_zh)
    assert r"城市固定效应 & 是 & 是 \\" in zh
    assert r"年份固定效应 & 否 & 是 \\" in zh
    assert r"观测值 & 5,436 & 5,436 \\" in zh
    assert r"\caption{创新型城市试点与人才集聚}" in zh
    assert "括号内为标准误。" in zh
    assert "***、**、* 分别表示在 1\\%、5\\%、10\\% 的水平上显著。" in zh


def test_latex_protects_leading_bracket_and_star_after_line_breaks() -> None:
    # "\\[" and "\\*" would swallow the bracket / star as arguments of "\\".
    df = pd.DataFrame({"v": ["[a] first", "*b"], "x": ["[1]", "2"]})
    table = Table.from_frame(df, notes=["[note]", "* p<0.1"])
    tex = to_latex(table)
    assert r"{}[a] first & [1] \\" in tex
    assert r"{}*b & 2 \\" in tex
    tpt = to_latex(table, threeparttable=True)
    assert r"\item {}[note]" in tpt


# ---------------------------------------------------------------------- Markdown
def _read_markdown(text: str) -> pd.DataFrame:
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    del lines[1]  # alignment row
    frame = pd.read_csv(
        io.StringIO("\n".join(lines)),
        sep=r"(?<!\\)\|",
        engine="python",
        dtype=str,
        keep_default_na=False,
        header=0,
        skipinitialspace=True,
    )
    frame = frame.iloc[:, 1:-1]  # the empty fields outside the leading/trailing pipes
    frame.columns = [unescape_markdown(str(c).strip()) for c in frame.columns]
    return frame.map(lambda s: unescape_markdown(str(s).strip()))


def test_markdown_round_trips_to_cell_strings(reg: Table) -> None:
    text = to_markdown(reg)
    assert text.startswith("**Pilot effect on R&D talent (10% sample)**\n\n|")
    parsed = _read_markdown(text)
    expected = reg.to_frame()
    assert parsed.values.tolist() == expected.values.tolist()
    assert list(parsed.columns)[1:] == ["TWFE (1)", "TWFE (2)", "CS (3)"]
    assert "| :--- | :---: | :---: | :---: |" in text
    assert "0.123\\*\\*\\*" in text  # stars escaped, not emphasis
    assert "\n\n\\* p\\<0.1, \\*\\* p\\<0.05, \\*\\*\\* p\\<0.01\n" in text
    assert text.endswith("50% of #1 \\~ \\$2^3\\$ \\\\ end\n")


def test_markdown_escapes_pipes_in_user_strings(cities: Table) -> None:
    text = to_markdown(cities)
    assert "| A\\|B & C | 0.250 |" in text
    assert "\\<script\\>" in text and "<script>" not in text
    assert "| **Panel A: East** |  |" in text
    rows = [[r.label, *r.texts] for r in cities.rows]
    body = [ln for ln in text.splitlines() if ln.startswith("|") and "**" not in ln][2:]
    parsed = [
        [unescape_markdown(c.strip()) for c in __import__("re").split(r"(?<!\\)\|", ln)[1:-1]]
        for ln in body
    ]
    assert parsed == rows


# ---------------------------------------------------------------------- HTML
def test_html_escapes_user_strings_and_has_structure(cities: Table, reg: Table) -> None:
    out = to_html(cities)
    assert "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "<caption>LQ &lt;b&gt;by&lt;/b&gt; city</caption>" in out
    assert '<table class="ag-table" id="tab:lq">' in out
    assert '<tr class="ag-panel"><th colspan="2">Panel A: East</th></tr>' in out
    assert out.count("<tbody>") == 2
    assert "A|B &amp; C" in out
    assert "x &lt; 1 &amp; y &gt; 2" in out
    html_reg = to_html(reg)
    assert '<th class="ag-span ag-c" colspan="2">TWFE</th>' in html_reg
    assert '<th class="ag-span ag-c" colspan="1">CS</th>' in html_reg
    assert (
        '<tr class="ag-se"><th class="ag-l" scope="row"></th><td class="ag-c">(0.040)</td>'
        in html_reg
    )
    assert "* p&lt;0.1, ** p&lt;0.05, *** p&lt;0.01" in html_reg
    assert "border-top: 1.5pt solid" in THREE_LINE_CSS
    assert "thead tr:last-child th { border-bottom: 0.75pt solid" in THREE_LINE_CSS
    assert "tbody:last-of-type tr:last-child > * { border-bottom: 1.5pt solid" in THREE_LINE_CSS
    assert "<style>" in reg._repr_html_()


# ---------------------------------------------------------------------- CSV
def test_csv_is_the_displayed_body(reg: Table, cities: Table, tmp_path: Path) -> None:
    text = to_csv(reg)
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert back.values.tolist() == reg.to_frame().values.tolist()
    assert list(back.columns) == ["variable", "TWFE / (1)", "TWFE / (2)", "CS / (3)"]
    assert back.iloc[-2].tolist() == ["Observations", "5,436", "1,234,567", "900"]
    path = tmp_path / "lq.csv"
    cities.to_csv(path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    assert back.columns.tolist() == ["panel", "city", "lq"]
    assert back.iloc[2].tolist() == ["Panel B: West", "杭州", "2.000"]


# ---------------------------------------------------------------------- Word
def _document_xml(data: bytes) -> ET.Element:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return ET.fromstring(zf.read("word/document.xml"))


def _edges(tc: ET.Element) -> dict[str, tuple[str, str | None]]:
    borders = tc.find(f"{W}tcPr/{W}tcBorders")
    assert borders is not None
    return {el.tag.removeprefix(W): (el.get(f"{W}val", ""), el.get(f"{W}sz")) for el in borders}


def test_docx_three_line_rules_fonts_and_texts(reg: Table, tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    path = write_docx(reg, tmp_path / "did.docx")
    document = docx.Document(str(path))
    assert len(document.tables) == 1
    grid = document.tables[0]
    assert len(grid.rows) == 2 + len(reg.rows)  # group row + header + body
    texts = [[c.text for c in row.cells] for row in grid.rows]
    assert texts[0] == ["", "TWFE", "TWFE", "CS"]  # merged span repeats its cell
    assert texts[1] == ["", "(1)", "(2)", "(3)"]
    assert texts[2] == ["Treated × Post", "0.123***", "0.200**", "0.300"]
    assert texts[3] == ["", "(0.040)", "(0.100)", "(0.200)"]
    assert ["Observations", "5,436", "1,234,567", "900"] in texts
    assert document.paragraphs[0].text == reg.title
    assert [p.text for p in document.paragraphs[1:]] == list(reg.notes)

    root = _document_xml(path.read_bytes())
    tbl = root.find(f".//{W}tbl")
    assert tbl is not None
    tbl_borders = tbl.find(f"{W}tblPr/{W}tblBorders")
    assert tbl_borders is not None
    table_edges = {
        el.tag.removeprefix(W): (el.get(f"{W}val"), el.get(f"{W}sz")) for el in tbl_borders
    }
    assert table_edges == {
        "top": ("single", "12"),
        "bottom": ("single", "12"),
        "left": ("nil", None),
        "right": ("nil", None),
        "insideH": ("nil", None),
        "insideV": ("nil", None),
    }
    rows = tbl.findall(f"{W}tr")
    drawn: list[tuple[int, str, str | None]] = []
    for r, tr in enumerate(rows):
        for tc in tr.findall(f"{W}tc"):
            edges = _edges(tc)
            assert edges["left"] == ("nil", None) and edges["right"] == ("nil", None)
            drawn += [(r, edge, sz) for edge, (val, sz) in edges.items() if val != "nil"]
    last = len(rows) - 1
    assert set(drawn) == {(0, "top", "12"), (1, "bottom", "6"), (last, "bottom", "12")}
    # every cell of those rows carries the rule (4 cells; the merged span is one w:tc)
    assert sum(1 for d in drawn if d[0] == 0) == len(rows[0].findall(f"{W}tc"))
    assert sum(1 for d in drawn if d[0] == 1) == 4
    # no vertical borders anywhere in the document
    for tag in ("left", "right", "insideV", "start", "end"):
        for el in root.iter(f"{W}{tag}"):
            assert el.get(f"{W}val") in ("nil", "none")
    fonts = {(f.get(f"{W}ascii"), f.get(f"{W}eastAsia")) for f in root.iter(f"{W}rFonts")}
    assert fonts == {("Times New Roman", "宋体")}
    sizes = {s.get(f"{W}val") for s in root.iter(f"{W}sz")}
    assert sizes == {"21", "18"}  # half-points: 10.5 pt body, 9 pt notes


def test_docx_chinese_several_tables_numbered(reg_zh: Table, cities: Table) -> None:
    docx = pytest.importorskip("docx")
    data = docx_bytes([reg_zh, cities], numbered=True)
    document = docx.Document(io.BytesIO(data))
    assert len(document.tables) == 2
    texts = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert ["城市固定效应", "是", "是"] in texts
    assert ["年份固定效应", "否", "是"] in texts
    assert ["观测值", "5,436", "5,436"] in texts
    titles = [p.text for p in document.paragraphs if p.text.startswith("表")]
    assert titles == ["表 1  创新型城市试点与人才集聚", "表 2  LQ <b>by</b> city"]
    second = [[c.text for c in row.cells] for row in document.tables[1].rows]
    assert second[1] == ["Panel A: East", "Panel A: East"]  # merged panel row
    assert second[2] == ["<script>alert(1)</script>", "1.500"]  # text, not markup
    root = _document_xml(data)
    lang = ET.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/styles.xml"))
    assert any(el.get(f"{W}val") == "zh-CN" for el in lang.iter(f"{W}lang"))
    for tbl in root.iter(f"{W}tbl"):
        sizes = sorted(el.get(f"{W}sz", "") for el in tbl.iter() if el.get(f"{W}sz"))
        assert set(sizes) == {"12", "6"}


def test_summary_table_one_renders_everywhere() -> None:
    bay = datasets.zhejiang_bay(seed=0).panel
    result = describe.summary(bay, ["ht_rd_exp", "rd_staff_per10k"])
    table = Table.from_result(result, language="zh", label="tab:summary")
    mean = f"{result.stats.loc[0, 'mean']:.3f}"
    assert f"ht\\_rd\\_exp & 104 & 0 & {mean} &" in table.to_latex()
    assert f"| ht\\_rd\\_exp | 104 | 0 | {mean} |" in table.to_markdown()
    assert f'<td class="ag-c">{mean}</td>' in table.to_html()
    assert table.to_csv().splitlines()[0] == (
        "变量,观测值,缺失值,均值,标准差,最小值,P25,中位数,P75,最大值"
    )
