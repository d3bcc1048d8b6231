r"""HonestDiD sensitivity analysis (Rambachan and Roth 2023) of an event study.

:func:`honest_did` asks how robust a post-treatment event-study effect is to violations of
parallel trends: it reports confidence sets that stay valid when the post-treatment
violation :math:`\delta_{post}` is restricted

* **relative magnitudes** :math:`\Delta^{RM}(\bar M)`: every post-treatment change of the
  trend is at most :math:`\bar M` times the largest pre-treatment change,
  :math:`|\delta_{t+1} - \delta_t| \le \bar M \max_{s<0} |\delta_{s+1} - \delta_s|`;
* **smoothness** :math:`\Delta^{SD}(M)`: the trend's second difference is at most
  :math:`M`, :math:`|(\delta_{t+1} - \delta_t) - (\delta_t - \delta_{t-1})| \le M`.

The computation is R ``HonestDiD``'s, through moderndid 0.2.0 (its port) behind the
adapter :mod:`agglomera.policy._moderndid`. The relative-magnitude interval is R's
(conditional least-favourable hybrid, C-LF) — **not** diff-diff's, which differs from R.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from agglomera.errors import DataError, SpecError, format_examples
from agglomera.policy import _moderndid as adapter
from agglomera.policy.results import DIDResult

__all__ = ["HonestResult", "breakdown_value", "honest_did"]

METHODS: tuple[str, ...] = ("relative_magnitude", "smoothness")
CI_METHODS: tuple[str, ...] = ("C-LF", "Conditional", "C-F", "FLCI")
_REFERENCE = -1


@dataclass(frozen=True)
class HonestResult:
    r"""Robust confidence sets of one event-study effect (built by :func:`honest_did`).

    Attributes
    ----------
    method : str
        ``"relative_magnitude"`` or ``"smoothness"``.
    parameter : str
        ``"mbar"`` (:math:`\bar M`) or ``"m"`` (:math:`M`).
    e : int
        Target event time (0 = on impact).
    alpha : float
        One minus the confidence level.
    robust : pandas.DataFrame
        One row per grid value: ``mbar`` or ``m``, ``lb``, ``ub``, ``ci_method``
        (``"C-LF"``, ``"FLCI"``, ...), ``contains_zero``.
    original_ci : tuple of float
        The interval under exact parallel trends (:math:`\delta_{post} = 0`).
    breakdown : float
        The smallest grid value whose robust interval contains 0 (NaN when none does: the
        effect stays significant on the whole grid).
    estimate : float
        The target effect :math:`l^\top \hat\beta_{post}`.
    betahat, sigma : numpy.ndarray
        The coefficients (pre-periods first, reference period removed) and covariance used.
    num_pre, num_post : int
        Numbers of pre- and post-treatment coefficients.
    meta : dict
        Source estimator, event times used, grid points, engine and notes.
    """

    method: str
    parameter: str
    e: int
    alpha: float
    robust: pd.DataFrame = field(repr=False)
    original_ci: tuple[float, float]
    breakdown: float
    estimate: float
    betahat: np.ndarray = field(repr=False)
    sigma: np.ndarray = field(repr=False)
    num_pre: int = 0
    num_post: int = 0
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Return the tidy table: the original interval first, then one row per grid value.

        Columns ``method``, ``e``, ``parameter``, ``value`` (NaN for the original
        interval), ``lb``, ``ub``, ``ci_method``, ``contains_zero``.
        """
        lo, hi = self.original_ci
        rows = [
            {
                "method": "original",
                "e": self.e,
                "parameter": self.parameter,
                "value": math.nan,
                "lb": lo,
                "ub": hi,
                "ci_method": "Original",
                "contains_zero": bool(lo <= 0.0 <= hi),
            }
        ]
        records: list[dict[Any, Any]] = self.robust.to_dict("records")
        for r in records:
            rows.append(
                {
                    "method": self.method,
                    "e": self.e,
                    "parameter": self.parameter,
                    "value": float(r[self.parameter]),
                    "lb": float(r["lb"]),
                    "ub": float(r["ub"]),
                    "ci_method": str(r["ci_method"]),
                    "contains_zero": bool(r["contains_zero"]),
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Return a plain-text summary with the robust intervals and the breakdown value."""
        level = round(100 * (1 - self.alpha))
        sym = "Mbar" if self.parameter == "mbar" else "M"
        lo, hi = self.original_ci
        lines = [
            f"HonestDiD ({self.method.replace('_', ' ')}) — event time e = {self.e}, "
            f"estimate {self.estimate:.6g}; {self.num_pre} pre / {self.num_post} post periods",
            f"  original {level}% CI (exact parallel trends): [{lo:.6g}, {hi:.6g}]",
        ]
        records: list[dict[Any, Any]] = self.robust.to_dict("records")
        for r in records:
            lines.append(
                f"  {sym} = {float(r[self.parameter]):g}: [{float(r['lb']):.6g}, "
                f"{float(r['ub']):.6g}] ({r['ci_method']})"
            )
        if math.isnan(self.breakdown):
            lines.append(f"  breakdown value: > {self.robust[self.parameter].max():g} (grid max)")
        else:
            lines.append(f"  breakdown value: {sym} = {self.breakdown:g}")
        if lo <= 0.0 <= hi:
            lines.append("  note: the original CI already contains 0")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def honest_did(
    result: DIDResult | tuple[Any, Any, int, int],
    *,
    method: str = "relative_magnitude",
    mbar: Sequence[float] = (0.5, 1.0, 1.5, 2.0),
    m: Sequence[float] | None = None,
    e: int = 0,
    alpha: float = 0.05,
    ci_method: str | None = None,
    grid_points: int = 100,
    monotonicity_direction: str | None = None,
    bias_direction: str | None = None,
) -> HonestResult:
    r"""Sensitivity of an event-study effect to violations of parallel trends.

    Parameters
    ----------
    result : DIDResult or tuple
        Either an event-study :class:`DIDResult` whose ``meta["event_study_vcov"]`` holds
        the covariance of the ``event_study`` rows (dCDH results have it), or an explicit
        ``(betahat, sigma, num_pre, num_post)``: coefficients without the reference period,
        pre-periods first and consecutive, and their covariance. From a :class:`DIDResult`
        the reference period :math:`e = -1` is dropped whatever it holds (as R
        ``HonestDiD``'s ``honest_did`` for ``did`` event studies does); pre-periods are
        :math:`e < -1`, post-periods :math:`e \ge 0`.
    method : {"relative_magnitude", "smoothness"}, default "relative_magnitude"
        The restriction :math:`\Delta^{RM}(\bar M)` or :math:`\Delta^{SD}(M)`.
    mbar : sequence of float, default (0.5, 1, 1.5, 2)
        Grid of :math:`\bar M` (relative magnitudes).
    m : sequence of float, optional
        Grid of :math:`M` (smoothness); None = R's data-driven default grid.
    e : int, default 0
        Target event time (0 = on impact; for tuple input the index of the
        post-period, 0 = first).
    alpha : float, default 0.05
        One minus the confidence level.
    ci_method : {"C-LF", "Conditional", "C-F", "FLCI"}, optional
        Robust interval; default R's: C-LF for relative magnitudes, FLCI for smoothness.
    grid_points : int, default 100
        Grid of the test inversion (100 as R ``honest_did`` for ``did`` event studies).
    monotonicity_direction : {"increasing", "decreasing"}, optional
        Additional shape restriction on :math:`\delta`.
    bias_direction : {"positive", "negative"}, optional
        Additional sign restriction on :math:`\delta`.

    Returns
    -------
    HonestResult
        Robust intervals per grid value, the original interval and the breakdown value.

    Raises
    ------
    SpecError
        Unknown ``method``/``ci_method``, a negative or empty grid, a bad ``e``.
    DataError
        No pre-periods (nothing to calibrate the violation against), no post-periods,
        non-consecutive event times, a covariance of the wrong shape or not finite, or a
        :class:`DIDResult` without ``meta["event_study_vcov"]``.
    ImportError
        moderndid (with ``cvxpy``) is not installed.

    Notes
    -----
    The event-study vector is :math:`\hat\beta = \tau + \delta + \varepsilon` with
    :math:`\hat\beta \approx N(\beta, \Sigma)`; the target is :math:`\theta = l^\top
    \tau_{post}` with :math:`l` the unit vector of event time ``e``. Under
    :math:`\delta \in \Delta` the identified set of :math:`\theta` is an interval; the
    robust confidence set inverts moment-inequality tests (Andrews, Roth and Pakes;
    conditional / hybrid) or, for :math:`\Delta^{SD}`, uses the fixed-length CI. The
    breakdown value is read off the grid: the smallest :math:`\bar M` (or :math:`M`) whose
    robust interval contains 0 — refine the grid to locate it more precisely.

    References
    ----------
    Rambachan, A., Roth, J. (2023). A more credible approach to parallel trends. *Review of
    Economic Studies* 90(5), 2555–2591.
    """
    if not isinstance(method, str) or method not in METHODS:
        raise SpecError(f"method={method!r} is not allowed; allowed: {format_examples(METHODS)}.")
    if ci_method is not None and ci_method not in CI_METHODS:
        raise SpecError(
            f"ci_method={ci_method!r} is not allowed; allowed: {format_examples(CI_METHODS)}."
        )
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise SpecError(f"alpha must be in (0, 1); got {alpha!r}.")
    if isinstance(e, bool) or not isinstance(e, (int, np.integer)):
        raise SpecError(f"e must be an integer event time; got {e!r}.")
    grid: list[float] | None
    if method == "relative_magnitude":
        grid = _grid("mbar", mbar)
        parameter = "mbar"
    else:
        grid = None if m is None else _grid("m", m)
        parameter = "m"

    meta: dict[str, Any] = {"grid_points": int(grid_points)}
    if isinstance(result, DIDResult):
        betahat, sigma, num_pre, num_post, post_times, info = _from_result(result)
        meta.update(info)
        if int(e) not in post_times:
            raise SpecError(
                f"e={e} is not a post-treatment event time of this result; available: "
                f"{format_examples(post_times)}."
            )
        pos = post_times.index(int(e))
    elif isinstance(result, tuple) and len(result) == 4:
        betahat, sigma, num_pre, num_post = _from_tuple(result)
        post_times = list(range(num_post))
        if not 0 <= int(e) < num_post:
            raise SpecError(f"e={e} must index a post-period: 0..{num_post - 1}.")
        pos = int(e)
        meta["source"] = "explicit (betahat, sigma, num_pre, num_post)"
    else:
        raise SpecError(
            "honest_did() needs a DIDResult with an event study or a tuple "
            f"(betahat, sigma, num_pre, num_post); got {type(result).__name__}."
        )
    if num_pre < 2:
        raise DataError(
            f"HonestDiD ({method}) through moderndid 0.2.0 needs at least 2 pre-treatment "
            f"coefficients (e < -1); this event study has {num_pre}. moderndid rejects one "
            "pre-period for relative magnitudes and does not return for smoothness. Fix: "
            "estimate more leads (placebo=... for dCDH, base_period='universal' for CS)."
        )
    l_vec = np.zeros(num_post)
    l_vec[pos] = 1.0
    robust, original = adapter.honest_sensitivity(
        betahat,
        sigma,
        num_pre,
        num_post,
        method=method,
        grid=grid,
        l_vec=l_vec,
        alpha=float(alpha),
        ci_method=ci_method,
        grid_points=grid_points,
        monotonicity_direction=monotonicity_direction,
        bias_direction=bias_direction,
    )
    robust = robust.rename(columns={"param": parameter}).drop(columns="delta")
    robust["contains_zero"] = (robust["lb"] <= 0.0) & (robust["ub"] >= 0.0)
    meta["engine"] = f"moderndid {adapter.installed_version()} (port of R HonestDiD)"
    meta["restriction"] = "DeltaRM" if method == "relative_magnitude" else "DeltaSD"
    return HonestResult(
        method=method,
        parameter=parameter,
        e=int(e),
        alpha=float(alpha),
        robust=robust,
        original_ci=original,
        breakdown=breakdown_value(robust[parameter], robust["lb"], robust["ub"]),
        estimate=float(betahat[num_pre + pos]),
        betahat=betahat,
        sigma=sigma,
        num_pre=num_pre,
        num_post=num_post,
        meta=meta,
    )


def breakdown_value(grid: Any, lb: Any, ub: Any) -> float:
    r"""Smallest grid value whose interval :math:`[lb, ub]` contains 0 (NaN when none).

    Parameters
    ----------
    grid, lb, ub : array-like
        Grid values (:math:`\bar M` or :math:`M`) and the robust bounds.

    Returns
    -------
    float
        The breakdown value on the grid.
    """
    g = np.asarray(grid, dtype=float)
    lo = np.asarray(lb, dtype=float)
    hi = np.asarray(ub, dtype=float)
    hit = (lo <= 0.0) & (hi >= 0.0)
    return float(g[hit].min()) if hit.any() else math.nan


# ---------------------------------------------------------------------- input handling
def _grid(name: str, values: Any) -> list[float]:
    if isinstance(values, (int, float)):
        values = [values]
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise SpecError(
            f"{name} must be a sequence of non-negative numbers; got {values!r}."
        ) from None
    if not out or any(not math.isfinite(v) or v < 0 for v in out):
        raise SpecError(
            f"{name} must be a non-empty sequence of non-negative numbers; got {values!r}."
        )
    return out


def _check_sizes(betahat: np.ndarray, sigma: np.ndarray, num_pre: int, num_post: int) -> None:
    k = betahat.size
    if num_pre < 1:
        raise DataError(
            "HonestDiD needs at least one pre-treatment coefficient (event time e < -1, the "
            "reference e = -1 excluded) to bound the violation of parallel trends; this event "
            "study has none. Fix: estimate more leads (e.g. placebo=... for dCDH, a longer "
            "pre-period, or base_period='universal' for CS)."
        )
    if num_post < 1:
        raise DataError("HonestDiD needs at least one post-treatment coefficient (e >= 0).")
    if num_pre + num_post != k:
        raise DataError(f"num_pre + num_post = {num_pre + num_post} but betahat has {k} entries.")
    if sigma.shape != (k, k):
        raise DataError(f"sigma must be {k} x {k}; got shape {sigma.shape}.")
    if not (np.isfinite(betahat).all() and np.isfinite(sigma).all()):
        raise DataError("betahat and sigma must be finite (no NaN).")


def _from_tuple(value: tuple[Any, Any, int, int]) -> tuple[np.ndarray, np.ndarray, int, int]:
    b, s, npre, npost = value
    betahat = np.asarray(b, dtype=float).ravel()
    sigma = np.asarray(s, dtype=float)
    num_pre, num_post = int(npre), int(npost)
    _check_sizes(betahat, sigma, num_pre, num_post)
    return betahat, sigma, num_pre, num_post


def _from_result(
    result: DIDResult,
) -> tuple[np.ndarray, np.ndarray, int, int, list[int], dict[str, Any]]:
    es = result.event_study
    if es is None or es.empty:
        raise DataError(
            f"the {result.estimator!r} result has no event study; estimate with an event-study "
            "estimator (aggregate='dynamic' for CS) first."
        )
    vcov = result.meta.get("event_study_vcov")
    if vcov is None:
        raise DataError(
            f"the {result.estimator!r} result does not store the covariance of its event study "
            "(meta['event_study_vcov']), which HonestDiD needs. Fix: pass the event study "
            "explicitly as honest_did((betahat, sigma, num_pre, num_post), ...)."
        )
    sigma_all = np.asarray(vcov, dtype=float)
    rel = es["rel_time"].to_numpy(dtype=np.int64)
    if sigma_all.shape != (rel.size, rel.size):
        raise DataError(
            f"meta['event_study_vcov'] has shape {sigma_all.shape}; expected "
            f"({rel.size}, {rel.size}), one row per event_study row."
        )
    keep = rel != _REFERENCE
    rel_k = rel[keep]
    pre, post = rel_k[rel_k < _REFERENCE], rel_k[rel_k >= 0]
    for name, arr in (("pre", pre), ("post", post)):
        if arr.size > 1 and not (np.diff(arr) == 1).all():
            raise DataError(
                f"HonestDiD needs consecutive {name}-treatment event times; got "
                f"{format_examples(arr.tolist())}."
            )
    betahat = es["estimate"].to_numpy(dtype=float)[keep]
    sigma = sigma_all[np.ix_(keep, keep)]
    _check_sizes(betahat, sigma, int(pre.size), int(post.size))
    info = {
        "source": result.estimator,
        "event_times": rel_k.tolist(),
        "reference": _REFERENCE,
        "outcome": result.meta.get("outcome"),
    }
    return betahat, sigma, int(pre.size), int(post.size), [int(x) for x in post], info
