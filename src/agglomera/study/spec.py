"""The study file: a TOML description of a whole study, validated with pydantic.

Every table of the file is a model with unknown keys rejected (``extra="forbid"``), so a
typo fails before anything runs, with a message that names the key, the value and the
allowed values. Paths in ``[data]`` are relative to the study file.

A minimal study::

    [study]
    title = "Innovative-city pilot and high-tech talent agglomeration"

    [data]
    example = "innovative_city"

    [policy]
    outcome = "talent_lq"
    policy = "innovative_city"

See ``docs/study.md`` for every key and its default.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agglomera.errors import SpecError

__all__ = [
    "CouplingSpec",
    "DataSpec",
    "FigureSpec",
    "GrangerSpec",
    "HeterogeneitySpec",
    "InteractionSpec",
    "MeasureSpec",
    "MechanismSpec",
    "OutputSpec",
    "PanelVARSpec",
    "PlaceboSpec",
    "PolicySpec",
    "ReplicationSpec",
    "RobustnessSpec",
    "SpatialDIDSpec",
    "SpatialModelSpec",
    "SpatialSpec",
    "StudyMeta",
    "StudySpec",
    "TargetSpec",
    "WeightsSpec",
    "WildBootstrapSpec",
    "load_study",
    "parse_study",
]

Estimator = Literal["twfe", "event_study", "cs", "sa", "bjs", "dcdh"]


def _estimators() -> list[Estimator]:
    return ["twfe", "cs", "bjs"]


def _table_formats() -> list[Literal["latex", "markdown", "csv", "docx"]]:
    return ["latex", "markdown", "csv", "docx"]


def _figure_formats() -> list[Literal["png", "svg"]]:
    return ["png", "svg"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StudyMeta(_Strict):
    """``[study]``: title, language of labels, master seed."""

    title: str
    description: str = ""
    authors: str = ""
    language: Literal["en", "zh"] = "en"
    seed: int = Field(0, ge=0)


class DataSpec(_Strict):
    """``[data]``: exactly one source — an example dataset, a file, or DuckDB SQL.

    ``example`` names a shipped generator (``example_options`` are its arguments);
    ``file`` is a CSV, XLSX, Parquet or Stata file (relative to the study file); ``sql``
    is a DuckDB query whose ``{dir}`` placeholder is the study file's folder. ``rename``
    maps new names to existing columns; ``years`` keeps an inclusive window.
    """

    example: Literal["innovative_city", "zhejiang_bay"] | None = None
    example_options: dict[str, Any] = Field(default_factory=dict)
    file: str | None = None
    sql: str | None = None
    unit: str | None = None
    time: str | None = None
    rename: dict[str, str] = Field(default_factory=dict)
    years: tuple[int, int] | None = None
    labels: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        given = [k for k in ("example", "file", "sql") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of example, file or sql (got {given or 'none'})")
        if self.example is None and (self.unit is None or self.time is None):
            raise ValueError("unit and time are required for a file or SQL source")
        return self


class MeasureSpec(_Strict):
    """One ``[[measures]]`` entry: a new column computed from the data.

    ``kind = "location_quotient"``: ``value`` (columns summed), ``total``, ``reference``
    (``"sample"`` or ``"national"`` with ``reference_total``). ``kind = "composite"``:
    entropy-weight index of ``indicators`` with ``directions`` (+1/−1) and ``scope``.
    ``kind = "log"``: natural log of ``value``.
    """

    name: str
    kind: Literal["location_quotient", "composite", "log"]
    value: list[str] = Field(default_factory=list)
    total: str | None = None
    reference: Literal["sample", "national"] = "sample"
    indicators: list[str] = Field(default_factory=list)
    directions: list[int] = Field(default_factory=list)
    scope: Literal["pooled", "per_year"] = "pooled"
    label: str | None = None


class PlaceboSpec(_Strict):
    """``[policy.placebo]``: randomization inference (:func:`agglomera.policy.placebo`)."""

    draws: int = Field(1000, ge=10)
    scheme: Literal["units", "timing", "units+timing"] = "timing"
    estimator: Estimator = "twfe"
    p_value: Literal["share", "plus1"] = "share"


class WildBootstrapSpec(_Strict):
    """``[policy.wild_bootstrap]``: wild cluster bootstrap of the TWFE coefficient."""

    draws: int = Field(999, ge=99)
    weights: Literal["rademacher", "webb", "mammen", "norm"] = "rademacher"


class RobustnessSpec(_Strict):
    """``[policy.robustness]``: the battery reviewers ask for."""

    bacon: bool = True
    exclude_units: list[str] = Field(default_factory=list)
    fake_timing: list[int] = Field(default_factory=list)
    drop_never_treated: bool = False


class HeterogeneitySpec(_Strict):
    """``[policy.heterogeneity]``: effects by a unit-level group column."""

    by: str
    estimator: Estimator = "cs"


class MechanismSpec(_Strict):
    """``[policy.mechanisms]``: mediators of the policy effect."""

    mediators: list[str]
    mode: Literal["causal", "three_step"] = "causal"
    bootstrap: int = Field(499, ge=0)


class SpatialDIDSpec(_Strict):
    """``[policy.spatial_did]``: direct effect on pilots and spillover on their neighbours.

    Untreated units within ``band_km`` (great-circle, inclusive) of a treated unit are
    *exposed* from the year the earliest-treated unit in their band is treated; units
    beyond the band are the comparison (:func:`agglomera.policy.spatial_did`).
    """

    band_km: tuple[float, float] = (0.0, 150.0)
    estimator: Literal["twfe", "event_study", "cs", "sa", "bjs"] = "twfe"


class PolicySpec(_Strict):
    """``[policy]``: design, estimators and inference of a staggered DID study."""

    outcome: str
    policy: Literal["innovative_city"] | None = None
    cohort: str | None = None
    controls: list[str] = Field(default_factory=list)
    estimators: list[Estimator] = Field(default_factory=lambda: _estimators())
    control_group: Literal["never", "notyet"] = "notyet"
    method: Literal["dr", "ipw", "reg"] = "dr"
    cluster: str | None = None
    balance: Literal["drop", "pairwise", "rcs"] = "drop"
    anticipation: int = Field(0, ge=0)
    always_treated: Literal["error", "drop"] = "error"
    pretrend_test: Literal["bootstrap", "f", "wald"] = "bootstrap"
    unverified: Literal["drop", "earliest", "latest"] = "drop"
    districts: Literal["municipality", "drop"] = "municipality"
    county_level: Literal["parent", "drop"] = "parent"
    window: tuple[int, int] | None = None
    placebo: PlaceboSpec | None = None
    wild_bootstrap: WildBootstrapSpec | None = None
    robustness: RobustnessSpec | None = None
    heterogeneity: HeterogeneitySpec | None = None
    mechanisms: MechanismSpec | None = None
    spatial_did: SpatialDIDSpec | None = None

    @model_validator(mode="after")
    def _one_coding(self) -> PolicySpec:
        if (self.policy is None) == (self.cohort is None):
            raise ValueError("give exactly one of policy or cohort")
        if not self.estimators:
            raise ValueError("estimators must name at least one estimator")
        return self


class CouplingSpec(_Strict):
    """``[interaction.coupling]``: coupling coordination of the two subsystems."""

    form: Literal["standard", "k", "corrected"] = "standard"
    alpha: float = 0.5
    region: str | None = None


class GrangerSpec(_Strict):
    """``[interaction.granger]``: Dumitrescu–Hurlin panel Granger causality."""

    lags: int | Literal["aic", "bic"] = 1
    bootstrap: int = Field(0, ge=0)


class PanelVARSpec(_Strict):
    """``[interaction.panel_var]``: panel VAR by GMM with impulse responses."""

    lags: int = Field(1, ge=1)
    transform: Literal["fod", "fd"] = "fod"
    steps: Literal[1, 2] = 2
    instrument_lags: tuple[int, int] = (2, 99)
    collapse: bool = False
    irf_steps: int = Field(10, ge=1)
    irf: Literal["orthogonal", "generalized"] = "orthogonal"
    bands: Literal["montecarlo", "bootstrap"] = "montecarlo"
    draws: int = Field(200, ge=0)
    ordering: list[str] | None = None


class InteractionSpec(_Strict):
    """``[interaction]``: how industry and talent agglomeration drive each other.

    ``demean_time`` removes the year means of both series before the Granger test and the
    panel VAR (common shocks and trends; the coupling coordination uses the raw scores).
    """

    industry: str
    talent: str
    demean_time: bool = True
    coupling: CouplingSpec | None = None
    granger: GrangerSpec | None = None
    panel_var: PanelVARSpec | None = None


class WeightsSpec(_Strict):
    """``[spatial.weights]``: the spatial weights matrix (from the reference coordinates)."""

    kind: Literal["knn", "distance", "contiguity"] = "knn"
    k: int = Field(4, ge=1)
    power: float = 1.0
    cutoff_km: float | None = None
    row_standardise: bool = True


class SpatialModelSpec(_Strict):
    """``[spatial.model]``: a fixed-effects spatial panel model with effects."""

    y: str
    x: list[str]
    model: Literal["sar", "sem", "sdm", "sdem"] = "sdm"
    effects: Literal["unit", "time", "twoway"] = "twoway"
    lee_yu: bool = True
    draws: int = Field(1000, ge=0)


class SpatialSpec(_Strict):
    """``[spatial]``: weights, Moran's I by year, LISA, hot spots, gravity centres, a model.

    ``permutations`` (at least 99) are the random permutations of the pseudo p-values of
    Moran's I, LISA and Gi*. ``moran``: variables for Moran's I by year, the Moran scatter
    and the LISA map of ``lisa_year`` (default the last year); ``hotspots``: Getis–Ord Gi*
    maps of the same year; ``centre``: gravity-centre paths and standard deviational
    ellipses of the variables used as weights.
    """

    weights: WeightsSpec = WeightsSpec()
    moran: list[str] = Field(default_factory=list)
    lisa_year: int | None = None
    hotspots: list[str] = Field(default_factory=list)
    centre: list[str] = Field(default_factory=list)
    centre_method: Literal["sphere", "planar"] = "sphere"
    permutations: int = Field(999, ge=99)
    model: SpatialModelSpec | None = None


class OutputSpec(_Strict):
    """``[outputs]``: table formats, figure formats and table conventions."""

    tables: list[Literal["latex", "markdown", "csv", "docx"]] = Field(
        default_factory=lambda: _table_formats()
    )
    figures: list[Literal["png", "svg"]] = Field(default_factory=lambda: _figure_formats())
    stars: list[float] = Field(default_factory=lambda: [0.1, 0.05, 0.01])
    se_style: Literal["parentheses", "brackets"] = "parentheses"
    digits: int = Field(3, ge=0, le=8)


class FigureSpec(_Strict):
    """One ``[[figures]]`` entry: a map or a time-path figure of a variable.

    ``kind = "choropleth"`` (the variable in ``year``, default the last, on the shipped
    census boundaries), ``"bubble"`` (city bubbles sized by the variable) or ``"paths"``
    (one line per unit; ``units`` are highlighted; ``reference_line`` at 1 for LQs).
    Units must be 6-digit adcodes for the maps.
    """

    kind: Literal["choropleth", "bubble", "paths"]
    variable: str
    year: int | None = None
    units: list[str] = Field(default_factory=list)
    title: str | None = None
    classes: int | None = Field(None, ge=2)


class TargetSpec(_Strict):
    """One published number to reproduce: ``quantity`` is a path into results.json.

    Paths are dotted keys; a list element is chosen by position (``event_study[0]``) or by
    a field value (``event_study[rel_time=-3]``). The number matches when it rounds to
    ``published`` at ``digits`` decimals.
    """

    quantity: str
    published: float
    digits: int = Field(4, ge=0, le=12)
    label: str = ""


class ReplicationSpec(_Strict):
    """``[replication]``: published numbers the report sets beside its own."""

    source: str
    targets: list[TargetSpec]


class StudySpec(_Strict):
    """A whole study: ``[study]``, ``[data]``, ``[[measures]]``, analyses, ``[outputs]``."""

    study: StudyMeta
    data: DataSpec
    measures: list[MeasureSpec] = Field(default_factory=list)
    figures: list[FigureSpec] = Field(default_factory=list)
    policy: PolicySpec | None = None
    interaction: InteractionSpec | None = None
    spatial: SpatialSpec | None = None
    replication: ReplicationSpec | None = None
    outputs: OutputSpec = OutputSpec()


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Return the model class holding the key at ``loc`` (None when not found)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    """Return the BaseModel inside ``X | None`` or ``list[X]`` (else the annotation)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    return annotation


def _key_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]" if parts else f"[{part}]"
        else:
            parts.append(str(part))
    return ".".join(parts) or "(top level)"


def _error_line(error: Any, source: str) -> str:
    loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
    loc = tuple(p for p in loc if p not in ("literal", "int", "str", "tuple", "list"))
    key = _key_path(loc)
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        parent = _model_at(StudySpec, loc[:-1])
        allowed = sorted(parent.model_fields) if parent is not None else []
        return (
            f"{source}: unknown key '{key}' = {value!r}. Allowed keys here: "
            f"{', '.join(allowed)}. Fix: correct the spelling or remove the key."
        )
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{source}: '{key}' = {value!r} is not allowed. Allowed values: {expected}."
    if kind == "missing":
        return f"{source}: required key '{key}' is missing."
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    shown = "" if isinstance(value, dict) else f" = {value!r}"
    return f"{source}: '{key}'{shown}: {message}."


def parse_study(content: dict[str, Any], *, source: str = "study") -> StudySpec:
    """Validate a study given as a dictionary (the parsed TOML).

    Raises
    ------
    SpecError
        Naming every offending key with its value and the allowed keys or values.
    """
    try:
        return StudySpec.model_validate(content)
    except ValidationError as exc:
        lines = [_error_line(e, source) for e in exc.errors()]
        raise SpecError("\n".join(dict.fromkeys(lines))) from None


def load_study(path: str | Path) -> StudySpec:
    """Read and validate a study file (TOML).

    Parameters
    ----------
    path : str or Path
        The study file. Relative data paths in it are resolved against its folder.

    Returns
    -------
    StudySpec

    Raises
    ------
    SpecError
        When the file is missing, is not valid TOML (with the line), or a key or value is
        not allowed (naming the key, the value and what is allowed).
    """
    file = Path(path)
    if not file.is_file():
        raise SpecError(f"study file {str(file)!r} not found.")
    try:
        content = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{file.name}: not valid TOML: {exc}.") from None
    return parse_study(content, source=file.name)
