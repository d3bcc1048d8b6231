r"""Randomization inference: placebo re-assignments of a staggered treatment.

:func:`placebo` re-assigns the cohorts of a :class:`~agglomera.policy.design.TreatmentDesign`
at random ``draws`` times, re-estimates the effect on every placebo assignment and compares
the actual estimate with the placebo distribution (Fisher 1935; Young 2019). It returns a
:class:`PlaceboResult` with the draws, the two-sided randomization p-value and the kernel
density of the draws for the usual placebo figure.

Schemes (cohort vector :math:`g = (g_1, \dots, g_N)`, 0 = never treated; :math:`N_1` the
number of treated units)

``"units"``
    :math:`g^* = g_{\pi}` for a uniformly random permutation :math:`\pi` of all units:
    each unit takes another unit's cohort (never-treated included). The number of treated
    units and the size of every cohort are preserved exactly; which units are treated and
    when is random. This is the common placebo of the Chinese DID literature ("randomly
    pick as many pseudo-pilot cities as there are pilots and give them the real pilot
    years").
``"timing"``
    The set of treated units is kept; their cohorts are permuted among them,
    :math:`g^*_i = g_{\pi(i)}` for treated :math:`i` with :math:`\pi` a random permutation
    of the treated units; never-treated units stay never treated. Cohort sizes are
    preserved exactly; only the timing is random (tests the timing, not the selection of
    pilots).
``"units+timing"``
    :math:`N_1` units drawn uniformly without replacement are treated, and each receives
    a year drawn independently (with replacement) from the observed distribution of the
    treated cohorts; the others are never treated. The number of treated units is
    preserved, cohort sizes vary around the observed ones.

Every scheme uses :func:`numpy.random.default_rng` ``(seed)`` and draws one assignment
after the other, so the same seed gives the same draws whatever the chunking or the
execution path (:func:`draw_cohorts`).
"""

from __future__ import annotations

import dataclasses
import math
import time as _time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from agglomera.errors import AgglomeraError, SpecError
from agglomera.policy import _placebo_fast as fast
from agglomera.policy.design import TreatmentDesign
from agglomera.policy.estimation import AGGREGATIONS, check_choice, estimate
from agglomera.policy.results import DIDResult

__all__ = ["P_VALUE_RULES", "SCHEMES", "PlaceboResult", "draw_cohorts", "placebo"]

#: Re-assignment schemes (see the module docstring).
SCHEMES: tuple[str, ...] = ("units", "timing", "units+timing")
#: p-value rules: ``"share"`` (Heß 2017's ``ritest``) or ``"plus1"`` (Phipson–Smyth 2010).
P_VALUE_RULES: tuple[str, ...] = ("share", "plus1")
#: Relative tolerance under which a placebo estimate counts as a tie with the actual one.
TIE_RTOL = 1e-10

Scheme = Literal["units", "timing", "units+timing"]


@dataclass(frozen=True)
class PlaceboResult:
    r"""Randomization-inference result of :func:`placebo`.

    Attributes
    ----------
    estimate : float
        The actual estimate :math:`\hat\beta` (``result.att``).
    draws : numpy.ndarray, shape (R,)
        Placebo estimates :math:`\hat\beta^*_r`, in draw order (NaN where a placebo
        assignment could not be estimated; counted in ``meta["n_failed"]``).
    p_value : float
        Two-sided randomization p-value under the chosen rule (``meta["p_value_rule"]``):
        ``"share"`` :math:`c / R'`, ``"plus1"`` :math:`(1 + c)/(1 + R')`, with
        :math:`c = \#\{r: |\hat\beta^*_r| \ge |\hat\beta|\}` and :math:`R'` the number of
        finite draws. Both values are in ``meta``.
    result : DIDResult
        The actual estimation (standard errors, conventions).
    meta : dict
        ``scheme``, ``seed``, ``estimator``, ``aggregate``, ``outcome``, ``n_draws``,
        ``n_failed``, ``count`` (:math:`c`), ``p_value_share``, ``p_value_plus1``,
        ``p_value_rule``, ``tie_rtol``, ``path`` (``"fast-twfe"``, ``"fast-cs"`` or
        ``"loop"``), ``path_reason``, ``n_units``, ``n_treated``, ``seconds``.
    """

    estimate: float
    draws: np.ndarray = field(repr=False)
    p_value: float
    result: DIDResult = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def density(self, grid: int = 512, bandwidth: str | float = "scott") -> pd.DataFrame:
        r"""Gaussian kernel density of the placebo estimates, for the placebo figure.

        Parameters
        ----------
        grid : int, default 512
            Number of grid points; the grid spans the draws and the actual estimate plus
            three bandwidths on each side.
        bandwidth : {"scott", "silverman"} or float, default "scott"
            :class:`scipy.stats.gaussian_kde` bandwidth rule or factor.

        Returns
        -------
        pandas.DataFrame
            Columns ``x`` and ``density``; ``attrs`` holds ``estimate`` (the vertical line
            of the figure), ``p_value`` and ``bandwidth`` (in units of ``x``).
        """
        from scipy import stats

        finite = self.draws[np.isfinite(self.draws)]
        attrs = {"estimate": self.estimate, "p_value": self.p_value}
        if finite.size < 2 or float(np.ptp(finite)) == 0.0:
            frame = pd.DataFrame(
                {"x": finite[:1].astype(float), "density": [math.nan] * min(1, finite.size)}
            )
            frame.attrs.update(attrs, bandwidth=math.nan)
            return frame
        kde = stats.gaussian_kde(finite, bw_method=bandwidth)
        bw = float(np.sqrt(kde.covariance[0, 0]))
        lo = min(float(finite.min()), self.estimate) - 3.0 * bw
        hi = max(float(finite.max()), self.estimate) + 3.0 * bw
        x = np.linspace(lo, hi, int(grid))
        frame = pd.DataFrame({"x": x, "density": kde(x)})
        frame.attrs.update(attrs, bandwidth=bw)
        return frame

    def plot(self, ax: Any = None) -> Any:
        """Draw the placebo density with the actual estimate (matplotlib); return the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        dens = self.density()
        ax.plot(dens["x"], dens["density"], color="0.2", label="placebo estimates (KDE)")
        finite = self.draws[np.isfinite(self.draws)]
        ax.plot(finite, np.zeros_like(finite), "|", color="0.5", alpha=0.4)
        ax.axvline(self.estimate, color="C3", linestyle="--", label=f"actual = {self.estimate:.4g}")
        ax.axvline(0.0, color="0.6", linewidth=0.8)
        ax.set_xlabel("estimate")
        ax.set_ylabel("density")
        ax.set_title(
            f"Placebo test ({self.meta.get('scheme')}, R = {finite.size}, p = {self.p_value:.3g})"
        )
        ax.legend(frameon=False)
        return ax

    def to_frame(self) -> pd.DataFrame:
        """Return one row per draw: ``draw``, ``estimate``, ``abs_ge_actual``."""
        tol = TIE_RTOL * _scale(self.estimate, self.draws)
        with np.errstate(invalid="ignore"):
            ge = np.abs(self.draws) >= abs(self.estimate) - tol
        return pd.DataFrame(
            {
                "draw": np.arange(self.draws.size, dtype=np.int64),
                "estimate": self.draws,
                "abs_ge_actual": ge & np.isfinite(self.draws),
            }
        )

    def summary(self) -> str:
        """Return a plain-text summary (scheme, draws, estimate, p-values, quantiles)."""
        m = self.meta
        finite = self.draws[np.isfinite(self.draws)]
        q = np.quantile(finite, [0.025, 0.5, 0.975]) if finite.size else [math.nan] * 3
        lines = [
            f"Randomization inference — {m.get('estimator')} ({m.get('aggregate')}), outcome "
            f"{m.get('outcome')!s}, scheme {m.get('scheme')!r}, seed {m.get('seed')}",
            f"  actual estimate = {self.estimate:.6g}; {finite.size} placebo draws "
            f"({m.get('n_failed', 0)} failed), path {m.get('path')}",
            f"  two-sided p = {self.p_value:.4g} ({m.get('p_value_rule')}; share "
            f"{m.get('p_value_share', math.nan):.4g}, (1+c)/(1+R) "
            f"{m.get('p_value_plus1', math.nan):.4g}; c = {m.get('count')})",
            f"  placebo quantiles 2.5% / 50% / 97.5%: {q[0]:.4g} / {q[1]:.4g} / {q[2]:.4g}",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# ---------------------------------------------------------------------- draws
def draw_cohorts(
    cohorts: np.ndarray | pd.Series,
    *,
    draws: int,
    scheme: Scheme = "timing",
    seed: int = 0,
) -> np.ndarray:
    """Draw placebo cohort vectors.

    Parameters
    ----------
    cohorts : array-like of int, shape (N,)
        Actual cohorts (0 = never treated), e.g. ``design.cohorts``.
    draws : int
        Number of placebo assignments :math:`R`.
    scheme : {"units", "timing", "units+timing"}, default "timing"
        See the module docstring.
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    numpy.ndarray of int64, shape (R, N)
        Row :math:`r` is the cohort vector of draw :math:`r`, in the order of ``cohorts``.
    """
    check_choice("scheme", scheme, SCHEMES)
    g = np.asarray(cohorts, dtype=np.int64)
    rng = np.random.default_rng(seed)
    out = np.empty((int(draws), g.size), dtype=np.int64)
    treated = np.flatnonzero(g > 0)
    years = g[treated]
    for r in range(int(draws)):
        if scheme == "units":
            out[r] = rng.permutation(g)
        elif scheme == "timing":
            row = g.copy()
            row[treated] = rng.permutation(years)
            out[r] = row
        else:
            row = np.zeros_like(g)
            pick = rng.choice(g.size, size=treated.size, replace=False)
            row[pick] = rng.choice(years, size=treated.size, replace=True)
            out[r] = row
    return out


# ---------------------------------------------------------------------- entry point
def placebo(
    design: TreatmentDesign,
    outcome: str,
    *,
    estimator: str = "twfe",
    draws: int = 1000,
    scheme: Scheme = "timing",
    seed: int = 0,
    controls: Sequence[str] = (),
    aggregate: str = "simple",
    p_value: Literal["share", "plus1"] = "share",
    fast_path: bool | None = None,
    n_jobs: int = 1,
    progress: bool | Callable[[int, int], None] = False,
    **options: Any,
) -> PlaceboResult:
    r"""Randomization inference by placebo re-assignment of the treatment cohorts.

    Parameters
    ----------
    design : TreatmentDesign
        The actual design (:func:`agglomera.policy.design`).
    outcome : str
        Outcome column.
    estimator : str, default "twfe"
        Any estimator of :func:`agglomera.policy.estimate`. ``"twfe"`` (with or without
        controls) and ``"cs"`` (without controls, or with ``method="reg"``) have matrix
        fast paths on a complete balanced outcome matrix; everything else loops over
        :func:`estimate`.
    draws : int, default 1000
        Number of placebo assignments :math:`R` (500–1000 is customary).
    scheme : {"units", "timing", "units+timing"}, default "timing"
        How cohorts are re-assigned (module docstring; :func:`draw_cohorts`).
    seed : int, default 0
        Seed; the same seed gives the same draws on every path.
    controls : sequence of str, default ()
        Covariates, passed to :func:`estimate`.
    aggregate : {"simple", "dynamic", "group", "calendar"}, default "simple"
        The statistic that is permuted: the aggregation reported as ``att``.
    p_value : {"share", "plus1"}, default "share"
        ``"share"``: :math:`p = c / R` with :math:`c = \#\{r : |\hat\beta^*_r| \ge
        |\hat\beta|\}` — the share of placebo estimates at least as large in absolute
        value, as reported by Stata ``ritest`` (Heß 2017) and pyfixest's ``ritest``.
        ``"plus1"``: :math:`p = (1 + c)/(1 + R)`, which counts
        the actual assignment among the draws and is an exact level-:math:`\alpha` test
        with randomly sampled re-assignments (Phipson and Smyth 2010); never 0. Both
        are stored in ``meta``.
    fast_path : bool, optional
        None (default) uses a fast path where one applies; False forces the loop (e.g.
        to check the fast path); True raises :class:`SpecError` when none applies.
    n_jobs : int, default 1
        Loop path only: worker processes (``-1`` = all cores); 1 = a plain loop in this
        process.
    progress : bool or callable, default False
        True shows a progress bar (rich) over the draws; a callable is called as
        ``progress(done, total)`` after each draw (loop) or block of draws (fast path).
    **options
        Passed to :func:`estimate` (e.g. ``control_group="notyet"``, ``cluster=...``,
        ``window=...``).

    Returns
    -------
    PlaceboResult

    Raises
    ------
    SpecError
        For a bad argument.
    DataError, EstimationError
        When the actual design cannot be estimated (raised by :func:`estimate`).

    Notes
    -----
    The sharp null hypothesis :math:`H_0: y_{it}(1) = y_{it}(0)` for all :math:`i, t`
    fixes the outcomes under any assignment, so the distribution of the statistic over
    re-assignments is known exactly (Fisher 1935). With :math:`R` random draws the
    p-value is :math:`c/R` or :math:`(1+c)/(1+R)` (``p_value``); placebo estimates equal
    to :math:`|\hat\beta|` within a relative :data:`TIE_RTOL` count as
    :math:`\ge` (identical re-assignments reproduce :math:`\hat\beta` up to rounding).
    Draws that cannot be estimated (e.g. a treatment indicator collinear with the fixed
    effects under ``"units+timing"``) are NaN, left out of :math:`R` and counted in
    ``meta["n_failed"]``. The test uses the coefficient (randomization-c); Young (2019)
    discusses its power and the studentised alternative.

    Fast paths (``meta["path"]``; :mod:`agglomera.policy._placebo_fast`): ``"fast-twfe"``
    when every unit has the outcome (and controls) in every period — the within
    transformation of :math:`y` is computed once and each draw costs a gather of
    cumulative sums; ``"fast-cs"`` for CS without controls, or with controls and
    ``method="reg"`` (outcome regression), on a complete matrix with never-treated units
    — cohort sums of :math:`y` (and of the covariate cross-products) for a block of
    draws as matrix products. Otherwise (unbalanced panels, missing values, other
    estimators, CS with covariates and ``method="dr"`` or ``"ipw"``) the draws loop
    over :func:`estimate` on a copy of the design with the placebo cohorts
    (``dataclasses.replace(design, cohorts=...)``), in ``n_jobs`` processes
    (:class:`concurrent.futures.ProcessPoolExecutor`, ``spawn`` start method: each
    worker imports agglomera once, a few seconds); failures are NaN.

    References
    ----------
    Fisher, R. A. (1935). *The Design of Experiments*. Edinburgh: Oliver and Boyd.
    Heß, S. (2017). Randomization inference with Stata: a guide and software. *Stata
    Journal* 17(3), 630–651.
    Phipson, B., Smyth, G. K. (2010). Permutation p-values should never be zero.
    *Statistical Applications in Genetics and Molecular Biology* 9(1), 39.
    Young, A. (2019). Channeling Fisher: randomization tests and the statistical
    insignificance of seemingly significant experimental results. *Quarterly Journal of
    Economics* 134(2), 557–598.
    """
    if not isinstance(design, TreatmentDesign):
        raise SpecError(
            f"placebo() needs a TreatmentDesign from agglomera.policy.design(...); got "
            f"{type(design).__name__}."
        )
    check_choice("scheme", scheme, SCHEMES)
    check_choice("p_value", p_value, P_VALUE_RULES)
    check_choice("aggregate", aggregate, AGGREGATIONS)
    n_draws = _positive_int("draws", draws)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise SpecError(f"seed must be an integer; got {seed!r}.")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise SpecError(f"n_jobs must be a non-zero integer; got {n_jobs!r}.")
    if fast_path not in (None, True, False):
        raise SpecError(f"fast_path must be None, True or False; got {fast_path!r}.")
    controls = (controls,) if isinstance(controls, str) else tuple(controls)
    started = _time.perf_counter()

    actual = estimate(
        design, outcome, estimator=estimator, controls=controls, aggregate=aggregate, **options
    )
    cohort_draws = draw_cohorts(design.cohorts, draws=n_draws, scheme=scheme, seed=int(seed))
    path, reason = _choose_path(design, outcome, estimator, controls, options)
    if fast_path is True and path == "loop":
        raise SpecError(f"fast_path=True, but no fast path applies: {reason}.")
    if fast_path is False:
        path, reason = "loop", "fast_path=False"
    report = _reporter(progress, n_draws)

    if path == "fast-twfe":
        values = _run_fast_twfe(design, outcome, controls, cohort_draws, report)
    elif path == "fast-cs":
        values = _run_fast_cs(design, outcome, controls, cohort_draws, aggregate, options, report)
    else:
        values = _run_loop(
            design,
            outcome,
            cohort_draws,
            dict(options, estimator=estimator, controls=controls, aggregate=aggregate),
            n_jobs=int(n_jobs),
            report=report,
        )
    report(None)

    beta = float(actual.att)
    share, plus1, count, n_ok = _p_values(beta, values)
    meta: dict[str, Any] = {
        "scheme": scheme,
        "seed": int(seed),
        "estimator": estimator,
        "aggregate": aggregate,
        "outcome": outcome,
        "controls": list(controls),
        "options": dict(options),
        "n_draws": n_draws,
        "n_failed": int(n_draws - n_ok),
        "count": count,
        "p_value_rule": p_value,
        "p_value_share": share,
        "p_value_plus1": plus1,
        "tie_rtol": TIE_RTOL,
        "path": path,
        "path_reason": reason,
        "n_units": int(design.cohorts.size),
        "n_treated": int((design.cohorts.to_numpy() > 0).sum()),
        "seconds": _time.perf_counter() - started,
    }
    return PlaceboResult(
        estimate=beta,
        draws=values,
        p_value=share if p_value == "share" else plus1,
        result=actual,
        meta=meta,
    )


# ---------------------------------------------------------------------- paths
def _choose_path(
    design: TreatmentDesign,
    outcome: str,
    estimator: str,
    controls: tuple[str, ...],
    options: dict[str, Any],
) -> tuple[str, str]:
    if estimator not in ("twfe", "cs"):
        return "loop", f"no fast path for estimator={estimator!r}"
    y = design.outcome_matrix(outcome).to_numpy(dtype=float)
    if np.isnan(y).any():
        return "loop", "the outcome matrix is incomplete (unbalanced panel or missing values)"
    if estimator == "twfe":
        # cluster and alpha change the standard error only, not the coefficient
        return "fast-twfe", "balanced panel, complete outcome and controls"
    if controls and options.get("method", "dr") != "reg":
        return "loop", "CS with covariates: fast path for method='reg' only"
    if design.balance == "rcs":
        return "loop", "balance='rcs'"
    if not (design.cohorts.to_numpy() == 0).any():
        return "loop", "no never-treated units (R did's last-cohort rule)"
    # without covariates, method, base_period (post-treatment cells always use the base
    # g - 1 - anticipation), cluster, bootstrap and trimming do not change the overall ATT
    return "fast-cs", "no covariates, complete outcome, never-treated units"


def _run_fast_twfe(
    design: TreatmentDesign,
    outcome: str,
    controls: tuple[str, ...],
    cohort_draws: np.ndarray,
    report: Callable[[int | None], None],
) -> np.ndarray:
    wide = design.outcome_matrix(outcome)
    y = wide.to_numpy(dtype=float)
    x = _control_cube(design, controls, wide.index) if controls else None
    cohort_draws = _align(design, wide.index, cohort_draws)
    out = np.empty(cohort_draws.shape[0])
    for block in fast.chunks(cohort_draws.shape[0], y.size, budget=50_000_000):
        out[block] = fast.twfe_draws(y, cohort_draws[block], design.times, x=x)
        report(block.stop)
    return out


def _run_fast_cs(
    design: TreatmentDesign,
    outcome: str,
    controls: tuple[str, ...],
    cohort_draws: np.ndarray,
    aggregate: str,
    options: dict[str, Any],
    report: Callable[[int | None], None],
) -> np.ndarray:
    wide = design.outcome_matrix(outcome)
    y = wide.to_numpy(dtype=float)
    x = _control_cube(design, controls, wide.index) if controls else None
    cohort_draws = _align(design, wide.index, cohort_draws)
    out = np.empty(cohort_draws.shape[0])
    for block in fast.chunks(cohort_draws.shape[0], y.size, budget=50_000_000):
        out[block] = fast.cs_draws(
            y,
            cohort_draws[block],
            design.times,
            control_group=str(options.get("control_group", "never")),
            anticipation=int(design.anticipation),
            aggregate=aggregate,
            x=x,
        )
        report(block.stop)
    return out


def _align(design: TreatmentDesign, units: pd.Index, cohort_draws: np.ndarray) -> np.ndarray:
    """Reorder draw columns (``design.cohorts`` order) to the outcome matrix's units."""
    if units.equals(design.cohorts.index):
        return cohort_draws
    return cohort_draws[:, design.cohorts.index.get_indexer(units)]


def _control_cube(design: TreatmentDesign, controls: Sequence[str], units: pd.Index) -> np.ndarray:
    cov = design.covariate_frame(controls)
    arrays = []
    for c in controls:
        w = cov.pivot(index=design.unit, columns=design.time, values=c)
        arrays.append(w.reindex(index=units, columns=design.times).to_numpy(dtype=float))
    return np.stack(arrays, axis=2)


def _one_draw(
    design: TreatmentDesign, outcome: str, row: np.ndarray, kwargs: dict[str, Any]
) -> float:
    cohorts = pd.Series(row, index=design.cohorts.index, name="cohort", dtype=np.int64)
    placebo_design = dataclasses.replace(design, cohorts=cohorts)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(estimate(placebo_design, outcome, **kwargs).att)
    except AgglomeraError:
        return math.nan


def _run_loop(
    design: TreatmentDesign,
    outcome: str,
    cohort_draws: np.ndarray,
    kwargs: dict[str, Any],
    *,
    n_jobs: int,
    report: Callable[[int | None], None],
) -> np.ndarray:
    n = cohort_draws.shape[0]
    if n_jobs == 1:
        out = np.empty(n)
        for r in range(n):
            out[r] = _one_draw(design, outcome, cohort_draws[r], kwargs)
            report(r + 1)
        return out
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    workers = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    out = np.empty(n)
    # "spawn": forking a process whose BLAS / numba threads are running can deadlock
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        results = pool.map(
            _one_draw,
            [design] * n,
            [outcome] * n,
            list(cohort_draws),
            [kwargs] * n,
            chunksize=max(1, n // (4 * workers)),
        )
        for r, value in enumerate(results):
            out[r] = value
            report(r + 1)
    return out


# ---------------------------------------------------------------------- helpers
def _p_values(beta: float, values: np.ndarray) -> tuple[float, float, int, int]:
    finite = values[np.isfinite(values)]
    n_ok = int(finite.size)
    if n_ok == 0 or not math.isfinite(beta):
        return math.nan, math.nan, 0, n_ok
    tol = TIE_RTOL * _scale(beta, finite)
    count = int((np.abs(finite) >= abs(beta) - tol).sum())
    return count / n_ok, (1 + count) / (1 + n_ok), count, n_ok


def _scale(beta: float, values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    top = float(np.abs(finite).max()) if finite.size else 0.0
    return max(abs(beta), top, np.finfo(float).tiny)


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise SpecError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def _reporter(
    progress: bool | Callable[[int, int], None], total: int
) -> Callable[[int | None], None]:
    """Return ``report(done)``; ``report(None)`` closes the bar."""
    if callable(progress):
        callback = progress

        def call(done: int | None) -> None:
            if done is not None:
                callback(done, total)

        return call
    if not progress:
        return lambda done: None
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = bar.add_task("placebo draws", total=total)
    bar.start()

    def update(done: int | None) -> None:
        if done is None:
            bar.stop()
        else:
            bar.update(task, completed=done)

    return update
