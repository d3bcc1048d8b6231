"""English and Chinese label sets of the report tables.

Chinese-language journals print regression tables with their own fixed wording (观测值,
城市固定效应, 是/否, 括号内为标准误, ...). Every label a report table writes by itself comes
from :data:`LABELS`, keyed by a canonical key, so that one switch (``language="zh"``) turns
a table Chinese. :func:`translate` maps the English display names that other modules
already produce (for example the headers of :meth:`agglomera.describe.SummaryResult.table`)
to the other language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from agglomera.errors import SpecError

__all__ = ["LABELS", "LANGUAGES", "Language", "check_language", "label", "star_note", "translate"]

Language = Literal["en", "zh"]
LANGUAGES: tuple[str, ...] = ("en", "zh")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        # regression rows
        "n_obs": "Observations",
        "n_units": "Cities",
        "n_clusters": "Clusters",
        "r2": "R²",
        "adj_r2": "Adjusted R²",
        "r2_within": "Within R²",
        "pretrend_pvalue": "Pre-trend test (p)",
        "estimator": "Estimator",
        "treated_post": "Treated × Post",
        "const": "Constant",
        "unit_fe": "Unit FE",
        "city_fe": "City FE",
        "year_fe": "Year FE",
        "time_fe": "Year FE",
        "province_year_fe": "Province × Year FE",
        "controls": "Controls",
        "yes": "Yes",
        "no": "No",
        # notes
        "se_parentheses": "Standard errors in parentheses.",
        "se_brackets": "Standard errors in brackets.",
        "t_parentheses": "t statistics in parentheses.",
        "t_brackets": "t statistics in brackets.",
        "panel": "Panel {letter}: {title}",
        "table": "Table {number}",
        # descriptive tables
        "variable": "Variable",
        "n": "N",
        "missing": "Missing",
        "mean": "Mean",
        "sd": "SD",
        "min": "Min",
        "max": "Max",
        "median": "Median",
        "summary_title": "Summary statistics",
        "correlation_title": "Correlation matrix",
        "regression_title": "Regression results",
    },
    "zh": {
        "n_obs": "观测值",
        "n_units": "城市数",
        "n_clusters": "聚类数",
        "r2": "R²",
        "adj_r2": "调整 R²",
        "r2_within": "组内 R²",
        "pretrend_pvalue": "平行趋势检验 p 值",
        "estimator": "估计方法",
        "treated_post": "试点城市 × 政策后",
        "const": "常数项",
        "unit_fe": "城市固定效应",
        "city_fe": "城市固定效应",
        "year_fe": "年份固定效应",
        "time_fe": "年份固定效应",
        "province_year_fe": "省份 × 年份固定效应",
        "controls": "控制变量",
        "yes": "是",
        "no": "否",
        "se_parentheses": "括号内为标准误。",
        "se_brackets": "方括号内为标准误。",
        "t_parentheses": "括号内为 t 值。",
        "t_brackets": "方括号内为 t 值。",
        "panel": "Panel {letter}：{title}",
        "table": "表 {number}",
        "variable": "变量",
        "n": "观测值",
        "missing": "缺失值",
        "mean": "均值",
        "sd": "标准差",
        "min": "最小值",
        "max": "最大值",
        "median": "中位数",
        "summary_title": "描述性统计",
        "correlation_title": "相关系数矩阵",
        "regression_title": "回归结果",
    },
}


def check_language(language: str) -> Language:
    """Return ``language`` if it is supported, else raise :class:`~agglomera.errors.SpecError`.

    Parameters
    ----------
    language : str
        ``"en"`` or ``"zh"``.

    Returns
    -------
    str
        The language code.
    """
    if language not in LANGUAGES:
        raise SpecError(
            f"language must be one of {', '.join(repr(x) for x in LANGUAGES)}; got {language!r}."
        )
    return "zh" if language == "zh" else "en"


def label(key: str, language: str = "en") -> str:
    """Return the label of a canonical ``key`` in ``language`` (the key itself if unknown).

    Parameters
    ----------
    key : str
        Canonical key, e.g. ``"n_obs"``, ``"unit_fe"``, ``"yes"``.
    language : {"en", "zh"}, default "en"
        Language of the label.

    Returns
    -------
    str
        For example ``label("n_obs", "zh") == "观测值"``.
    """
    return LABELS[check_language(language)].get(key, key)


def translate(text: str, language: str = "en") -> str:
    """Translate a known label into ``language``; other text is returned unchanged.

    ``text`` may be a canonical key (``"unit_fe"``) or a label of either language
    (``"Unit FE"``, ``"城市固定效应"``). Matching of English labels ignores case.

    Parameters
    ----------
    text : str
        The label.
    language : {"en", "zh"}, default "en"
        Target language.

    Returns
    -------
    str
        The label in the target language, or ``text`` when it is not a known label.
    """
    lang = check_language(language)
    if text in LABELS[lang]:
        return LABELS[lang][text]
    lowered = text.casefold()
    for table in LABELS.values():
        for key, value in table.items():
            if "{" not in value and value.casefold() == lowered:
                return LABELS[lang][key]
    return text


def star_note(stars: Sequence[float], language: str = "en") -> str:
    """Return the note that explains the significance stars.

    Parameters
    ----------
    stars : sequence of float
        Significance levels; a p-value strictly below ``k`` of them gets ``k`` stars.
    language : {"en", "zh"}, default "en"
        Language of the note.

    Returns
    -------
    str
        ``"* p<0.1, ** p<0.05, *** p<0.01"`` (en) or
        ``"***、**、* 分别表示在 1%、5%、10% 的水平上显著。"`` (zh) for the default levels;
        empty when ``stars`` is empty.
    """
    lang = check_language(language)
    levels = sorted((float(s) for s in stars), reverse=True)
    if not levels:
        return ""
    if lang == "en":
        return ", ".join(f"{'*' * (k + 1)} p<{lvl:g}" for k, lvl in enumerate(levels))
    marks = "、".join("*" * (k + 1) for k in reversed(range(len(levels))))
    pct = "、".join(f"{100 * lvl:g}%" for lvl in reversed(levels))
    if len(levels) == 1:
        return f"* 表示在 {pct} 的水平上显著。"
    return f"{marks} 分别表示在 {pct} 的水平上显著。"
