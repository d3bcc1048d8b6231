r"""Treatment-effect heterogeneity by group (region or any unit-level column) with tests.

:func:`heterogeneity` reports, for a unit-level grouping (NBS three-way or four-way region
from the shipped reference, or any column constant within unit):

1. **split-sample estimates** — :func:`~agglomera.policy.estimate` on the sub-design of
   each group. A sub-design keeps only the group's units, so the comparison units are
   *within the group* as well (east treated cities are compared with east controls);
   cohorts, anticipation and balance rule are those of the full design;
2. a **formal test that the effects are equal across groups**, one of

   - ``"interaction"`` (Chow 1960 test in its regression form, TWFE only): the pooled
     regression

     .. math:: y_{it} = \alpha_i + \lambda_t + \beta D_{it}
               + \sum_{k \ge 2} \gamma_k D_{it}\,1[k(i) = k] + \varepsilon_{it}

     with the same cluster-robust covariance and small-sample convention as
     :func:`~agglomera.policy.twfe.estimate_twfe`, and the Wald test
     :math:`W = \hat\gamma^\top \hat V_\gamma^{-1} \hat\gamma \sim \chi^2_{K-1}` of
     :math:`H_0: \gamma_2 = \dots = \gamma_K = 0`; the pairwise differences are the
     :math:`\gamma_k` and their contrasts. Unlike the classic Chow test, the unit and
     period effects are common to all groups (only the treatment effect is split);
   - ``"permutation"`` (any estimator): the group labels are permuted across units
     *within cohorts* (so every group keeps its number of units of each cohort, and
     every sub-design stays estimable), the split-sample estimates are recomputed, and
     the p-value of each pairwise difference :math:`\hat\theta_a - \hat\theta_b` is
     :math:`(1 + \#\{|\Delta^{(r)}| \ge |\Delta|\}) / (R + 1)`; the joint statistic is the
     spread :math:`S = \sum_k (\hat\theta_k - \bar\theta)^2`;
   - ``"bootstrap"`` (any estimator): units are resampled with replacement within each
     group × (treated, never treated) stratum (a cluster bootstrap by unit, Cameron,
     Gelbach and Miller 2008); each difference gets a bootstrap standard error, a
     percentile interval and the normal p-value of :math:`\Delta / se_{boot}`; the joint
     test is the Wald test with the bootstrap covariance of the differences from the first
     group.

References
----------
Chow, G. C. (1960). Tests of equality between sets of coefficients in two linear
regressions. *Econometrica* 28(3), 591–605.
Cameron, A. C., Gelbach, J. B., Miller, D. L. (2008). Bootstrap-based improvements for
inference with clustered errors. *Review of Economics and Statistics* 90(3), 414–427.
"""

from __future__ import annotations

import html
import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.errors import AgglomeraError, DataError, SpecError, format_examples
from agglomera.policy.design import TreatmentDesign
from agglomera.policy.estimation import check_choice, estimate, normal_pvalue, wald_test
from agglomera.policy.results import DIDResult
from agglomera.policy.robustness import rebuild_design

__all__ = ["HETEROGENEITY_TESTS", "HeterogeneityResult", "heterogeneity"]

#: Allowed values of ``test``.
HETEROGENEITY_TESTS: tuple[str, ...] = ("interaction", "permutation", "bootstrap")
_REFERENCE_GROUPS = ("region3", "region4")


@dataclass(frozen=True)
class HeterogeneityResult:
    """Split-sample effects by group and the test of their equality.

    Attributes
    ----------
    groups : pandas.DataFrame
        One row per group: ``group``, ``att``, ``se``, ``ci_low``, ``ci_high``,
        ``pvalue``, ``n_units``, ``n_treated`` (split-sample estimates).
    differences : pandas.DataFrame
        One row per pair: ``group_a``, ``group_b``, ``difference`` (a − b), ``se``,
        ``pvalue`` and, for the bootstrap, ``ci_low``/``ci_high``. For
        ``test="interaction"`` the differences are those of the pooled interaction
        regression (not of the split samples).
    test : str
        ``"interaction"``, ``"permutation"`` or ``"bootstrap"``.
    statistic, df, pvalue : float, int, float
        Joint test of equal effects across groups (see the module docstring).
    estimates : dict
        Group → :class:`~agglomera.policy.results.DIDResult` of the split sample.
    interaction : pandas.DataFrame
        ``test="interaction"`` only: ``term``, ``estimate``, ``se`` of the pooled
        regression (``treat`` = effect of the first group, ``treat:<g>`` = difference of
        group g from it) and the implied group effects; empty otherwise.
    draws : numpy.ndarray
        Permutation or bootstrap draws of the group estimates (draws × groups); empty
        for the interaction test.
    meta : dict
        ``by``, ``estimator``, ``outcome``, ``draws``, ``seed``, ``group_source``
        (``"panel"`` or ``"reference"``), ``subsample_rule``, ``failed_draws``.
    """

    groups: pd.DataFrame
    differences: pd.DataFrame
    test: str
    statistic: float
    df: int
    pvalue: float
    estimates: dict[str, DIDResult] = field(repr=False)
    interaction: pd.DataFrame = field(repr=False)
    draws: np.ndarray = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return the tidy table of group estimates (``groups``)."""
        return self.groups.copy()

    def summary(self) -> str:
        """Return a plain-text summary: group effects, differences and the joint test."""
        lines = [
            f"Heterogeneity by {self.meta.get('by')!s} — {self.meta.get('estimator')!s}, "
            f"outcome {self.meta.get('outcome')!s} (split-sample estimates)"
        ]
        for row in self.groups.itertuples(index=False):
            lines.append(
                f"  {row.group!s:<12} ATT = {row.att:.6g} (SE {row.se:.6g}; p = "
                f"{row.pvalue:.4g}; {row.n_treated} treated of {row.n_units} units)"
            )
        lines.append(f"  test of equal effects ({self.test}):")
        for row in self.differences.itertuples(index=False):
            lines.append(
                f"    {row.group_a!s} − {row.group_b!s} = {row.difference:.6g} "
                f"(SE {row.se:.6g}; p = {row.pvalue:.4g})"
            )
        lines.append(
            f"    joint: statistic = {self.statistic:.6g}, df = {self.df}, p = {self.pvalue:.4g}"
        )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def heterogeneity(
    design: TreatmentDesign,
    outcome: str,
    *,
    by: str = "region3",
    estimator: str = "twfe",
    test: str = "interaction",
    draws: int = 999,
    seed: int = 0,
    **estimate_options: Any,
) -> HeterogeneityResult:
    r"""Estimate the effect by group and test whether it differs across groups.

    Parameters
    ----------
    design : TreatmentDesign
        The design (from :func:`agglomera.policy.design`).
    outcome : str
        Outcome column.
    by : str, default "region3"
        Unit-level grouping column. ``"region3"`` (east / central / west) and ``"region4"``
        (east / central / west / northeast, NBS) are taken from the panel when present,
        otherwise joined from :func:`agglomera.reference.cities` on the unit adcodes
        (:meth:`~agglomera.data.Panel.join_reference`). Any other column must exist and be
        constant within unit.
    estimator : str, default "twfe"
        Any estimator of :func:`~agglomera.policy.estimate` for the split samples.
    test : {"interaction", "permutation", "bootstrap"}, default "interaction"
        Test of equal effects (module docstring). ``"interaction"`` needs
        ``estimator="twfe"``.
    draws : int, default 999
        Permutations or bootstrap draws (ignored by ``"interaction"``).
    seed : int, default 0
        Seed of the permutations / bootstrap.
    **estimate_options
        Passed to :func:`~agglomera.policy.estimate` (``controls``, ``control_group``,
        ``cluster``, ``alpha``, ...). ``cluster`` is also used by the interaction test.

    Returns
    -------
    HeterogeneityResult

    Raises
    ------
    SpecError
        For an unknown ``test`` or ``estimator``, ``test="interaction"`` with another
        estimator, fewer than 2 groups, or bad ``draws``/``seed``.
    DataError
        When ``by`` is missing, varies within unit or has missing values, or a group has no
        treated unit or no comparison unit (naming the group).

    Notes
    -----
    Split samples answer "what is the effect in the east, estimated on eastern cities",
    which also lets the counterfactual trends differ by region. The interaction regression
    instead imposes common unit and year effects; it is the regression form of the Chow
    (1960) test restricted to the treatment coefficient. With few treated units per group
    the cluster-robust Wald test over-rejects; prefer the permutation test.
    """
    check_choice("test", test, HETEROGENEITY_TESTS)
    if test == "interaction" and estimator != "twfe":
        raise SpecError(
            f"test='interaction' is the TWFE interaction (Chow) regression and needs "
            f"estimator='twfe'; got estimator={estimator!r}. Use test='permutation' or "
            "'bootstrap' for other estimators."
        )
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise SpecError(f"draws must be a positive integer; got {draws!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise SpecError(f"seed must be an integer; got {seed!r}.")
    labels, source, panel = _unit_groups(design, by)
    levels = sorted(labels.unique().tolist(), key=str)
    if len(levels) < 2:
        raise SpecError(f"by={by!r} has a single group {levels!r}; nothing to compare.")
    alpha = float(estimate_options.get("alpha", 0.05))

    subdesigns = {str(k): _subdesign(design, labels, k, by) for k in levels}
    estimates: dict[str, DIDResult] = {}
    for k, d in subdesigns.items():
        try:
            estimates[k] = estimate(d, outcome, estimator=estimator, **estimate_options)
        except AgglomeraError as exc:
            raise type(exc)(f"group {by}={k!r} (split sample): {exc}") from exc
    names = list(estimates)
    theta = np.array([estimates[k].att for k in names])
    groups = pd.DataFrame(
        {
            "group": names,
            "att": theta,
            "se": [estimates[k].se for k in names],
            "ci_low": [estimates[k].ci[0] for k in names],
            "ci_high": [estimates[k].ci[1] for k in names],
            "pvalue": [estimates[k].pvalue for k in names],
            "n_units": [len(subdesigns[k].units) for k in names],
            "n_treated": [len(subdesigns[k].treated_units()) for k in names],
        }
    )
    pairs = list(itertools.combinations(range(len(names)), 2))
    meta: dict[str, Any] = {
        "by": by,
        "estimator": estimator,
        "outcome": outcome,
        "group_source": source,
        "seed": int(seed),
        "draws": 0 if test == "interaction" else int(draws),
        "subsample_rule": (
            "split sample: each group's sub-design keeps only the group's units (treated and "
            "comparison units within the group), with the full design's cohorts, "
            "anticipation and balance rule"
        ),
        "failed_draws": 0,
    }
    empty = np.empty((0, len(names)))
    if test == "interaction":
        diffs, table, stat, df, p = _interaction_test(
            design, panel, outcome, by, names, estimate_options
        )
        return HeterogeneityResult(
            groups=groups,
            differences=diffs,
            test=test,
            statistic=stat,
            df=df,
            pvalue=p,
            estimates=estimates,
            interaction=table,
            draws=empty,
            meta=meta,
        )

    rng = np.random.default_rng(int(seed))
    unit_labels = labels.astype(str)
    sims = np.full((int(draws), len(names)), np.nan)
    if test == "permutation":
        strata = design.cohorts.reindex(unit_labels.index).to_numpy()
        for r in range(int(draws)):
            perm = unit_labels.copy()
            values = perm.to_numpy().copy()
            for s in np.unique(strata):
                idx = np.flatnonzero(strata == s)
                values[idx] = values[rng.permutation(idx)]
            perm = pd.Series(values, index=unit_labels.index)
            sims[r] = _group_estimates(
                design, perm, names, by, outcome, estimator, estimate_options
            )
    else:
        treated = (design.cohorts.reindex(unit_labels.index).to_numpy() > 0).astype(int)
        strata_keys = unit_labels.to_numpy().astype(object) + "|" + treated.astype(str)
        for r in range(int(draws)):
            sample = _resample(unit_labels.index, strata_keys, rng)
            sims[r] = _bootstrap_estimates(
                design, sample, unit_labels, names, by, outcome, estimator, estimate_options
            )
    failed = int(np.isnan(sims).any(axis=1).sum())
    meta["failed_draws"] = failed
    good = sims[~np.isnan(sims).any(axis=1)]
    if good.shape[0] == 0:
        raise DataError(f"every {test} draw failed; the groups are too small to re-estimate.")
    rows = []
    for a, b in pairs:
        d_obs = theta[a] - theta[b]
        d_sim = good[:, a] - good[:, b]
        if test == "permutation":
            p = (1 + int(np.sum(np.abs(d_sim) >= abs(d_obs) - 1e-12))) / (good.shape[0] + 1)
            se = float(np.std(d_sim, ddof=1)) if good.shape[0] > 1 else math.nan
            rows.append((names[a], names[b], d_obs, se, p, math.nan, math.nan))
        else:
            se = float(np.std(d_sim, ddof=1)) if good.shape[0] > 1 else math.nan
            lo, hi = np.quantile(d_sim, [alpha / 2, 1 - alpha / 2])
            rows.append((names[a], names[b], d_obs, se, normal_pvalue(d_obs, se), lo, hi))
    diffs = pd.DataFrame(
        rows,
        columns=["group_a", "group_b", "difference", "se", "pvalue", "ci_low", "ci_high"],
    )
    if test == "permutation":
        spread = float(np.sum((theta - theta.mean()) ** 2))
        sim_spread = np.sum((good - good.mean(axis=1, keepdims=True)) ** 2, axis=1)
        stat, df = spread, len(names) - 1
        p_joint = (1 + int(np.sum(sim_spread >= spread - 1e-15))) / (good.shape[0] + 1)
    else:
        contrasts = theta[1:] - theta[0]
        sim_c = good[:, 1:] - good[:, [0]]
        cov = np.atleast_2d(np.cov(sim_c, rowvar=False))
        stat, df, p_joint = wald_test(contrasts, cov)
    return HeterogeneityResult(
        groups=groups,
        differences=diffs,
        test=test,
        statistic=float(stat),
        df=int(df),
        pvalue=float(p_joint),
        estimates=estimates,
        interaction=pd.DataFrame(columns=["term", "estimate", "se"]),
        draws=sims,
        meta=meta,
    )


# ---------------------------------------------------------------------- groups
def _unit_groups(design: TreatmentDesign, by: str) -> tuple[pd.Series, str, Panel]:
    if not isinstance(by, str):
        raise SpecError(f"by must be a column name; got {by!r}.")
    panel = design.panel
    source = "panel"
    if by not in panel:
        if by in _REFERENCE_GROUPS:
            panel = panel.join_reference(columns=[by])
            source = "reference"
        else:
            panel.column(by)  # raises DataError with close matches
    frame = panel.to_frame()
    values = frame[by]
    if values.isna().any():
        units = frame.loc[values.isna().to_numpy(), design.unit].unique()
        raise DataError(
            f"by={by!r} has missing values for units {format_examples(list(units))}. Fix: "
            "fill them or drop those units (policy.robustness.exclude)."
        )
    nun = frame.groupby(design.unit, sort=True)[by].nunique()
    varying = nun.index[nun.to_numpy() > 1]
    if len(varying):
        raise DataError(
            f"by={by!r} must be constant within unit; it varies for "
            f"{format_examples(list(varying))}."
        )
    labels = frame.groupby(design.unit, sort=True)[by].first().reindex(design.units)
    return labels, source, panel


def _subdesign(
    design: TreatmentDesign, labels: pd.Series, level: Any, by: str, *, quiet: bool = False
) -> TreatmentDesign:
    members = list(labels.index[labels.astype(str).to_numpy() == str(level)])
    g = design.cohorts.reindex(members)
    if not (g > 0).any():
        raise DataError(f"group {by}={level!r} has no treated unit; it cannot be estimated.")
    panel = design.panel.subset(units=members)
    record = {
        "check": "subsample",
        "description": f"sub-sample {by} = {level!s} ({len(members)} units)",
    }
    return rebuild_design(design, panel, record=record, quiet=quiet)


def _group_estimates(
    design: TreatmentDesign,
    labels: pd.Series,
    names: list[str],
    by: str,
    outcome: str,
    estimator: str,
    options: dict[str, Any],
) -> np.ndarray:
    out = np.full(len(names), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j, k in enumerate(names):
            try:
                sub = _subdesign(design, labels, k, by, quiet=True)
                out[j] = estimate(sub, outcome, estimator=estimator, **options).att
            except (DataError, SpecError, ValueError, np.linalg.LinAlgError):
                out[j] = np.nan
    return out


def _resample(units: pd.Index, strata: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    picks = []
    for s in sorted(set(strata.tolist())):
        idx = np.flatnonzero(strata == s)
        picks.append(rng.choice(idx, size=idx.size, replace=True))
    return np.sort(np.concatenate(picks))


def _bootstrap_estimates(
    design: TreatmentDesign,
    sample: np.ndarray,
    labels: pd.Series,
    names: list[str],
    by: str,
    outcome: str,
    estimator: str,
    options: dict[str, Any],
) -> np.ndarray:
    boot, boot_labels = bootstrap_design(design, sample, labels)
    return _group_estimates(boot, boot_labels, names, by, outcome, estimator, options)


def bootstrap_design(
    design: TreatmentDesign, sample: np.ndarray, labels: pd.Series | None = None
) -> tuple[TreatmentDesign, pd.Series]:
    """Build the design of a cluster-bootstrap sample of units (duplicates relabelled).

    Parameters
    ----------
    design : TreatmentDesign
        The design.
    sample : numpy.ndarray
        Positions in ``design.units`` drawn with replacement.
    labels : pandas.Series, optional
        Unit labels (index ``design.units``) to carry over to the new units.

    Returns
    -------
    tuple
        The bootstrap design (units ``"<unit>#<copy>"``) and the carried labels.
    """
    frame = design.panel.to_frame()
    units = design.units
    pos = pd.Series(np.arange(len(units)), index=units)
    row_pos = pos.reindex(frame[design.unit]).to_numpy()
    order = np.argsort(row_pos, kind="stable")
    starts = np.searchsorted(row_pos[order], np.arange(len(units)))
    ends = np.searchsorted(row_pos[order], np.arange(len(units)), side="right")
    pieces, new_keys, new_g, new_lab = [], [], [], []
    copies: dict[int, int] = {}
    for p in sample.tolist():
        c = copies.get(p, 0)
        copies[p] = c + 1
        key = f"{units[p]!s}#{c}"
        rows = order[starts[p] : ends[p]]
        pieces.append((rows, key))
        new_keys.append(key)
        new_g.append(int(design.cohorts.iloc[p]))
        if labels is not None:
            new_lab.append(labels.iloc[p])
    all_rows = np.concatenate([r for r, _ in pieces])
    keys = np.concatenate([np.repeat(k, r.size) for r, k in pieces])
    sub = frame.iloc[all_rows].reset_index(drop=True)
    sub[design.unit] = keys
    numeric = [
        c
        for c in sub.columns
        if c not in (design.unit, design.time)
        and pd.api.types.is_numeric_dtype(sub[c])
        and not pd.api.types.is_bool_dtype(sub[c])
    ]
    labels_cols = [c for c in sub.columns if c not in (design.unit, design.time, *numeric)]
    panel = Panel(sub, unit=design.unit, time=design.time, numeric=numeric, labels=labels_cols)
    cohorts = pd.Series(new_g, index=pd.Index(new_keys, name=design.unit), name="cohort")
    record = {"check": "bootstrap", "description": "cluster bootstrap sample of units"}
    boot = rebuild_design(design, panel, record=record, cohorts=cohorts, quiet=True)
    lab = pd.Series(new_lab if labels is not None else [""] * len(new_keys), index=new_keys)
    return boot, lab.reindex(boot.units)


# ---------------------------------------------------------------------- interaction test
def _interaction_test(
    design: TreatmentDesign,
    panel: Panel,
    outcome: str,
    by: str,
    names: list[str],
    options: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, float, int, float]:
    from agglomera.policy import twfe

    controls = options.get("controls", ()) or ()
    if isinstance(controls, str):
        controls = (controls,)
    data = twfe._prepare(design, outcome, tuple(controls), options.get("cluster"))
    frame = data.frame
    d = design.treated().to_numpy(dtype=float)[data.rows]
    grp = panel.to_frame()[by].astype(str).to_numpy()[data.rows]
    frame["treat_d"] = d
    inter = []
    for j, name in enumerate(names[1:], start=1):
        col = f"treat_g{j}"
        frame[col] = d * (grp == name)
        inter.append(col)
    fit = twfe._fit(["treat_d", *inter, *data.x_names], frame)
    missing = [c for c in ["treat_d", *inter] if c not in fit.names]
    if missing:
        raise DataError(
            f"interaction test: {format_examples(missing)} collinear with the fixed effects "
            "(a group without treated observations?)."
        )
    idx = [fit.names.index(c) for c in ["treat_d", *inter]]
    b = fit.coef[idx]
    v = fit.vcov[np.ix_(idx, idx)]
    stat, df, p = wald_test(b[1:], v[1:, 1:])
    # implied group effects and all pairwise differences as linear combinations
    n_groups = len(names)
    effects = np.zeros((n_groups, n_groups))
    effects[:, 0] = 1.0
    for j in range(1, n_groups):
        effects[j, j] = 1.0
    eff = effects @ b
    eff_v = effects @ v @ effects.T
    terms = ["treat", *[f"treat:{n}" for n in names[1:]], *[f"effect:{n}" for n in names]]
    est = [*b.tolist(), *eff.tolist()]
    ses = [*np.sqrt(np.diag(v)).tolist(), *np.sqrt(np.diag(eff_v)).tolist()]
    table = pd.DataFrame({"term": terms, "estimate": est, "se": ses})
    rows = []
    for a, c in itertools.combinations(range(n_groups), 2):
        w = effects[a] - effects[c]
        diff = float(w @ b)
        se = float(np.sqrt(w @ v @ w))
        rows.append((names[a], names[c], diff, se, normal_pvalue(diff, se), math.nan, math.nan))
    diffs = pd.DataFrame(
        rows,
        columns=["group_a", "group_b", "difference", "se", "pvalue", "ci_low", "ci_high"],
    )
    table.attrs["formula"] = fit.formula
    table.attrs["small_sample_factor"] = fit.ssc
    return diffs, table, float(stat), int(df), float(p)
