"""Report figures: placebo, coupling and LQ paths, saving, and the CJK font handling."""

from __future__ import annotations

import io
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from agglomera.errors import DataError, SpecError
from agglomera.policy.placebo import PlaceboResult
from agglomera.report import figures, fonts

NOTO = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
NO_CJK = "install fonts-noto-cjk (scripts/install-system-deps.sh)"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def placebo_result() -> PlaceboResult:
    draws = np.random.default_rng(7).normal(0.0, 0.02, size=400)
    draws[3] = np.nan  # a failed placebo estimation
    return PlaceboResult(
        estimate=0.05,
        draws=draws,
        p_value=0.0125,
        result=None,  # type: ignore[arg-type]
        meta={"scheme": "units", "n_failed": 1},
    )


@pytest.fixture(scope="module")
def lq_frame() -> pd.DataFrame:
    from agglomera import datasets

    return datasets.innovative_city(seed=0).panel.to_frame()


# ---------------------------------------------------------------------- placebo
def test_placebo_figure_line_histogram_and_legend(placebo_result):
    fig = figures.placebo_figure(placebo_result, bins=20)
    ax = fig.axes[0]
    (actual,) = [line for line in ax.lines if line.get_gid() == "actual-estimate"]
    assert list(actual.get_xdata()) == [0.05, 0.05]
    bars = ax.patches
    assert len(bars) == 20
    widths = np.array([b.get_width() for b in bars])
    heights = np.array([b.get_height() for b in bars])
    assert float((widths * heights).sum()) == pytest.approx(1.0, rel=1e-12)  # a density
    finite = placebo_result.draws[np.isfinite(placebo_result.draws)]
    assert bars[0].get_x() == pytest.approx(finite.min())
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == [
        "placebo estimates (R = 399)",
        "kernel density",
        "actual estimate = 0.05 (p = 0.0125)",
    ]
    kde = placebo_result.density()
    (line,) = [ln for ln in ax.lines if ln.get_label() == "kernel density"]
    np.testing.assert_array_equal(line.get_ydata(), kde["density"])
    lo, hi = ax.get_xlim()
    assert lo <= finite.min() and hi >= max(finite.max(), 0.05)
    assert ax.get_title() == "Placebo test (units)"


def test_placebo_figure_keeps_a_far_estimate_in_view_and_speaks_chinese(placebo_result):
    far = PlaceboResult(
        estimate=-1.0, draws=placebo_result.draws, p_value=0.0, result=None, meta={}
    )  # type: ignore[arg-type]
    fig = figures.placebo_figure(far, kde=False, language="zh", title="")
    ax = fig.axes[0]
    assert ax.get_xlim()[0] < -1.0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "安慰剂估计值（R = 399）",
        "实际估计值 = -1（p = 0）",
    ]
    assert ax.get_xlabel() == "估计值"
    with pytest.raises(SpecError, match="language"):
        figures.placebo_figure(far, language="fr")
    with pytest.raises(SpecError, match="placebo"):
        figures.placebo_figure(object())


def test_placebo_figure_on_a_real_placebo_run(lq_frame):
    from agglomera import Panel, policy

    panel = Panel(lq_frame, unit="adcode", time="year")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        design = policy.design(panel, cohort="treat_year")
        res = policy.placebo(design, "talent_lq", estimator="twfe", draws=40, seed=1)
    ax = figures.placebo_figure(res).axes[0]
    (actual,) = [line for line in ax.lines if line.get_gid() == "actual-estimate"]
    assert actual.get_xdata()[0] == res.estimate
    assert f"p = {res.p_value:.3g}" in ax.get_legend().get_texts()[-1].get_text()


# ---------------------------------------------------------------------- paths
def test_lq_paths_lines_reference_and_highlight(lq_frame):
    fig = figures.lq_paths(lq_frame, unit="adcode", time="year", value="talent_lq", label="name_en")
    ax = fig.axes[0]
    units = [ln for ln in ax.lines if (ln.get_gid() or "").startswith("unit-")]
    assert len(units) == lq_frame["adcode"].nunique()
    bj = lq_frame[lq_frame["adcode"] == "110100"].sort_values("year")
    (line,) = [ln for ln in units if ln.get_gid() == "unit-110100"]
    np.testing.assert_array_equal(line.get_xdata(), bj["year"])
    np.testing.assert_array_equal(line.get_ydata(), bj["talent_lq"])
    assert line.get_label() == "Beijing"
    (ref,) = [ln for ln in ax.lines if ln.get_gid() == "lq-reference"]
    assert list(ref.get_ydata()) == [1.0, 1.0]
    lo, hi = ax.get_ylim()
    assert lo <= lq_frame["talent_lq"].min() and hi >= lq_frame["talent_lq"].max()
    assert ax.get_ylabel() == "location quotient (talent_lq)"

    focus = ["110100", "440300"]
    ax = figures.lq_paths(
        lq_frame, unit="adcode", time="year", value="talent_lq", label="name_cn",
        highlight=focus, language="zh",
    ).axes[0]  # fmt: skip
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["北京市", "深圳市", "区位熵 = 1（全国平均）"]
    grey = [ln for ln in ax.lines if (ln.get_gid() or "").startswith("background-")]
    assert len(grey) == lq_frame["adcode"].nunique() - 2
    assert ax.get_xlabel() == "年份"
    with pytest.raises(DataError, match="999999"):
        figures.lq_paths(lq_frame, unit="adcode", time="year", value="talent_lq",
                         highlight=["999999"])  # fmt: skip
    with pytest.raises(DataError, match="duplicated"):
        figures.lq_paths(pd.concat([lq_frame, lq_frame.head(1)]), unit="adcode", time="year",
                         value="talent_lq")  # fmt: skip
    with pytest.raises(DataError, match="lq_it"):
        figures.lq_paths(lq_frame, unit="adcode", time="year", value="lq_it")


def test_coupling_paths_grades():
    frame = pd.DataFrame(
        {
            "city": ["a"] * 3 + ["b"] * 3,
            "year": [2001, 2002, 2003] * 2,
            "D": [0.35, 0.45, 0.62, 0.55, 0.58, 0.71],
        }
    )
    fig = figures.coupling_paths(frame, unit="city", time="year", grades="classes")
    ax = fig.axes[0]
    assert len([ln for ln in ax.lines if (ln.get_gid() or "").startswith("unit-")]) == 2
    bands = [p for p in ax.patches if (p.get_gid() or "").startswith("grade-")]
    assert len(bands) == 3
    assert [t.get_text() for t in ax.texts] == [
        "imbalance and decline",
        "transition",
        "coordinated development",
    ]
    assert ax.get_ylim() == (0.0, 1.0)
    assert ax.get_ylabel() == "coupling coordination degree D"
    ax = figures.coupling_paths(
        frame, unit="city", time="year", grades="levels", language="zh", label={"a": "甲"}
    ).axes[0]
    assert len([p for p in ax.patches if (p.get_gid() or "").startswith("grade-")]) == 10
    assert ax.texts[0].get_text() == "极度失调" and ax.texts[-1].get_text() == "优质协调"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["甲", "b"]
    own = pd.DataFrame({"lower": [0, 0.5], "upper": [0.5, 1], "label": ["low", "high"]})
    ax = figures.coupling_paths(frame, unit="city", time="year", grades=own).axes[0]
    assert [t.get_text() for t in ax.texts] == ["low", "high"]
    with pytest.raises(SpecError, match="grades"):
        figures.coupling_paths(frame, unit="city", time="year", grades="liao")


# ---------------------------------------------------------------------- saving
def test_save_figure_writes_valid_deterministic_files(tmp_path, placebo_result):
    fig = figures.placebo_figure(placebo_result)
    paths = figures.save_figure(fig, tmp_path / "sub" / "placebo", formats=("png", "svg", "pdf"))
    assert [p.name for p in paths] == ["placebo.png", "placebo.svg", "placebo.pdf"]
    png, svg, pdf = (p.read_bytes() for p in paths)
    assert png.startswith(PNG_MAGIC) and len(png) > 1000
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert not root.findall(".//{http://www.w3.org/2000/svg}text")  # glyphs kept as paths
    assert pdf.startswith(b"%PDF")
    again = figures.save_figure(fig, tmp_path / "again", formats=("png", "svg"), dpi=200)
    assert again[0].read_bytes() == png
    assert again[1].read_bytes() == svg
    with pytest.raises(SpecError, match="formats"):
        figures.save_figure(fig, tmp_path / "x", formats=("jpg",))


# ---------------------------------------------------------------------- fonts
def _glyph_warnings(fig: Figure) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png", dpi=50)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def _chinese_figure() -> Figure:
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.plot([2010, 2011], [1.0, 1.2], label="北京市")
    ax.set_title("高技术人才区位熵")
    ax.set_xlabel("年份")
    ax.set_xticks([2010, 2011], ["二〇一〇", "二〇一一"])
    ax.legend()
    return fig


def test_chinese_text_renders_with_the_cjk_font():
    if fonts.cjk_font() is None:
        pytest.skip(NO_CJK)
    assert _glyph_warnings(_chinese_figure())  # control: the default font lacks the glyphs
    fig = fonts.apply_fonts(_chinese_figure())
    assert fig.axes[0].title.get_fontfamily()[0] == fonts.cjk_font()
    assert _glyph_warnings(fig) == []
    status = fonts.font_status()
    assert status["family"] == fonts.cjk_font() and Path(status["path"]).is_file()
    # the report figures use the font too
    ax = figures.coupling_paths(
        pd.DataFrame({"u": ["a", "a"], "t": [1, 2], "D": [0.3, 0.5]}),
        unit="u", time="t", grades="levels", language="zh", title="耦合协调度",
    ).axes[0]  # fmt: skip
    assert _glyph_warnings(ax.figure) == []


def test_noto_package_file_is_found():
    if not Path(NOTO).is_file():
        pytest.skip(NO_CJK)
    status = fonts.font_status()
    assert status["path"] == NOTO
    assert status["family"] == "Noto Sans CJK SC"


def test_without_cjk_font_figures_render_and_the_status_warns(monkeypatch, tmp_path, lq_frame):
    monkeypatch.setattr(
        fonts, "_discover", lambda: fonts._Found(None, None, "no CJK font found; install it")
    )
    fig = figures.lq_paths(
        lq_frame, unit="adcode", time="year", value="talent_lq", language="zh",
        title="人才区位熵（无字体）",
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing printed or warned while saving
        paths = figures.save_figure(fig, tmp_path / "nofont")
    assert all(p.stat().st_size > 0 for p in paths)
    status = fonts.font_status()
    assert status["family"] is None and status["path"] is None
    assert any("人才区位熵（无字体）" in w for w in status["warnings"])
    english = figures.lq_paths(lq_frame, unit="adcode", time="year", value="talent_lq",
                               title="no Chinese here")  # fmt: skip
    assert not any("no Chinese here" in w for w in fonts.font_status()["warnings"])
    assert english.axes[0].title.get_fontfamily() == ["sans-serif"]


def test_describe_figures_keeps_cjk_font():
    from agglomera.describe import figures as describe_figures

    assert describe_figures.cjk_font is fonts.cjk_font
