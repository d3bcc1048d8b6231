"""The in-memory report of a study run: sections of text, tables, figures and methods.

The runner fills a :class:`StudyReport`; the writers (:mod:`agglomera.study.writer`)
turn it into files. Nothing here touches the disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from agglomera.report.table import Table
    from agglomera.study.spec import StudySpec

__all__ = [
    "TITLES",
    "TOPICS_ZH",
    "Block",
    "FigureItem",
    "MethodEntry",
    "Section",
    "StudyReport",
    "TableItem",
    "title",
]


#: Section and subsection titles in English and Chinese.
TITLES: dict[str, tuple[str, str]] = {
    "data": ("Data", "数据"),
    "measures": ("Measures", "指标测度"),
    "figures": ("Maps and time paths", "地图与时间路径"),
    "policy": ("Policy evaluation", "政策效应评估"),
    "interaction": ("Industry–talent interaction", "产业集聚与人才集聚的互动"),
    "spatial": ("Spatial analysis", "空间分析"),
    "replication": ("Replication of published numbers", "已发表结果的复现"),
    "design": ("Treatment design", "处理设计"),
    "estimates": ("Estimates", "估计结果"),
    "inference": ("Inference", "统计推断"),
    "robustness": ("Robustness", "稳健性检验"),
    "heterogeneity": ("Heterogeneity", "异质性分析"),
    "mechanisms": ("Mechanisms", "机制分析"),
    "coupling": ("Coupling coordination", "耦合协调度"),
    "granger": ("Panel Granger causality", "面板格兰杰因果检验"),
    "panel_var": ("Panel VAR", "面板向量自回归"),
    "autocorrelation": ("Spatial autocorrelation", "空间自相关"),
    "spatial_model": ("Spatial panel model", "空间面板模型"),
    "hotspots": ("Hot spots (Getis–Ord Gi*)", "冷热点分析（Getis–Ord Gi*）"),
    "centre": ("Gravity centre and standard deviational ellipse", "重心迁移与标准差椭圆"),
    "spatial_did": ("Spatial spillovers of the policy", "政策的空间溢出效应"),
}


#: Chinese names of the conventions listed in the methods section.
TOPICS_ZH: dict[str, str] = {
    "location quotient: reference economy": "区位熵：参照经济体",
    "entropy-weight scope": "熵权法：标准化范围",
    "maps": "地图底图",
    "treatment coding": "处理组编码规则",
    "unverified pilot years": "批复年份未核实的试点",
    "comparison group": "对照组",
    "unbalanced panels": "非平衡面板",
    "units treated in every period": "各期均受处理的单位",
    "anticipation periods": "预期效应期数",
    "joint pre-trend test": "平行趋势联合检验",
    "CS estimation method": "CS 估计方法",
    "standard errors clustered by": "标准误聚类层级",
    "placebo re-assignment scheme": "安慰剂随机分配方案",
    "placebo p-value rule": "安慰剂 p 值规则",
    "wild bootstrap weights": "野自助法权重",
    "mechanism analysis": "机制检验方法",
    "spillover exposure": "溢出暴露定义",
    "coupling degree formula": "耦合度公式",
    "weight of industry in T": "综合发展指数中产业的权重",
    "time effects before Granger / panel VAR": "格兰杰检验与面板VAR前的时间效应处理",
    "Granger test": "格兰杰因果检验",
    "Granger lags": "格兰杰检验滞后阶数",
    "panel VAR transformation": "面板VAR变换方式",
    "panel VAR GMM steps": "面板VAR的GMM步数",
    "panel VAR instruments": "面板VAR工具变量",
    "IRF identification": "脉冲响应识别方式",
    "Cholesky ordering": "Cholesky 排序",
    "IRF bands": "脉冲响应置信带",
    "IRF band draws": "脉冲响应置信带抽样次数",
    "panel VAR instrument collapsing": "面板VAR工具变量折叠",
    "placebo estimator": "安慰剂检验所用估计量",
    "spatial weights": "空间权重矩阵",
    "row-standardised weights": "权重行标准化",
    "permutations (Moran, LISA)": "置换次数（Moran、LISA）",
    "hot spots": "冷热点统计量",
    "gravity centre": "重心计算方法",
    "standard deviational ellipse": "标准差椭圆",
    "spatial panel model": "空间面板模型",
    "spatial model fixed effects": "空间模型固定效应",
    "Lee–Yu bias correction": "Lee–Yu 偏误修正",
    "effects": "效应分解",
}


def title(key: str, language: str = "en") -> str:
    """Return the title of a section or subsection key in ``language`` ("en" or "zh")."""
    english, chinese = TITLES[key]
    return chinese if language == "zh" else english


@dataclass(frozen=True)
class MethodEntry:
    """One convention of the study: what was chosen, the default, and the reference.

    Parameters
    ----------
    topic : str
        What the choice is about, e.g. ``"comparison group"``.
    choice : str
        The value used in this study.
    default : str
        The library default (``""`` when there is none).
    reference : str
        The paper, package or document the convention follows.
    """

    topic: str
    choice: str
    default: str = ""
    reference: str = ""

    @property
    def is_default(self) -> bool:
        """Whether the study used the default."""
        return self.default == "" or self.choice == self.default


@dataclass(frozen=True)
class TableItem:
    """A named report table (the name is the file stem of its outputs)."""

    name: str
    table: Table


@dataclass
class FigureItem:
    """A named figure with its caption; ``files`` are filled in when written."""

    name: str
    caption: str
    figure: Figure
    files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Block:
    """One element of a section, in reading order.

    ``kind`` is ``"heading"``, ``"text"`` (a paragraph), ``"pre"`` (preformatted output
    such as a result summary), ``"table"`` (``item`` is a :class:`TableItem`) or
    ``"figure"`` (``item`` is a :class:`FigureItem`).
    """

    kind: str
    text: str = ""
    item: Any = None


@dataclass
class Section:
    """One section of the report (data, measures, policy, interaction, spatial)."""

    key: str
    language: str = "en"
    blocks: list[Block] = field(default_factory=list)
    methods: list[MethodEntry] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The section title in the report language."""
        return title(self.key, self.language)

    @property
    def tables(self) -> list[TableItem]:
        """The section's tables, in order."""
        return [b.item for b in self.blocks if b.kind == "table"]

    @property
    def figures(self) -> list[FigureItem]:
        """The section's figures, in order."""
        return [b.item for b in self.blocks if b.kind == "figure"]

    def heading(self, key: str) -> None:
        """Start a subsection titled by a :data:`TITLES` key (other text is used as is)."""
        self.blocks.append(Block("heading", title(key, self.language) if key in TITLES else key))

    def text(self, text: str) -> None:
        """Add a paragraph."""
        self.blocks.append(Block("text", text))

    def pre(self, text: str) -> None:
        """Add preformatted text (a result summary)."""
        self.blocks.append(Block("pre", text))

    def table(self, name: str, table: Table) -> None:
        """Add a table; ``name`` (prefixed with the section key) is its file stem."""
        self.blocks.append(Block("table", item=TableItem(f"{self.key}_{name}", table)))

    def figure(self, name: str, caption: str, figure: Figure) -> None:
        """Add a figure; ``name`` (prefixed with the section key) is its file stem."""
        self.blocks.append(Block("figure", item=FigureItem(f"{self.key}_{name}", caption, figure)))

    def setting(
        self,
        topic: str,
        spec: Any,
        name: str,
        reference: str = "",
        *,
        show: Callable[[Any], Any] | None = None,
        subject: str = "",
    ) -> None:
        """Record the study-file setting ``spec.<name>`` against its declared default.

        ``spec`` is a table of the study file (a pydantic model); the default is read from
        its field declaration, so the methods table never disagrees with the spec. ``show``
        formats both values the same way for display.
        """
        field = type(spec).model_fields[name]
        default = field.get_default(call_default_factory=True)
        value = getattr(spec, name)
        fmt = show or (lambda v: v)
        self.method(topic, fmt(value), fmt(default), reference, subject=subject)

    def method(
        self,
        topic: str,
        choice: Any,
        default: Any = "",
        reference: str = "",
        *,
        subject: str = "",
    ) -> None:
        """Record a convention (values shown as text; the topic in the report language).

        ``subject`` (e.g. the measure's name) is appended to the topic in parentheses.
        """
        shown = TOPICS_ZH.get(topic, topic) if self.language == "zh" else topic
        if subject:
            shown = f"{shown} ({subject})"
        self.methods.append(MethodEntry(shown, _text(choice), _text(default), reference))


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) if value else "none"
    return str(value)


@dataclass
class StudyReport:
    """Everything a study run produced, before it is written to files.

    Attributes
    ----------
    spec : StudySpec
        The validated study.
    sections : list of Section
        In report order.
    provenance : list of str
        Where the data came from and every transformation applied, in order.
    software : dict
        Versions of agglomera, Python and the libraries that computed the numbers.
    seconds : dict
        Wall-clock seconds per section.
    """

    spec: StudySpec
    sections: list[Section] = field(default_factory=list)
    provenance: list[str] = field(default_factory=list)
    software: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def methods(self) -> list[tuple[str, MethodEntry]]:
        """Every convention, as (section title, entry)."""
        return [(s.title, m) for s in self.sections for m in s.methods]

    def results(self) -> dict[str, Any]:
        """Every number of the report, keyed by section (the content of results.json)."""
        return {s.key: s.results for s in self.sections if s.results}

    def section(self, key: str) -> Section:
        """Return the section with this key."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)
