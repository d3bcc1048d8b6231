r"""Dumitrescu–Hurlin (2012) panel Granger non-causality test for heterogeneous panels.

For every unit *i* the regression

.. math:: y_{it} = \alpha_i + \sum_{k=1}^{K} \gamma_{ik} y_{i,t-k}
          + \sum_{k=1}^{K} \beta_{ik} x_{i,t-k} + \varepsilon_{it}

is fitted by OLS and the Wald statistic :math:`W_i` of :math:`\beta_{i1} = \dots =
\beta_{iK} = 0` is computed. The null hypothesis "x does not Granger-cause y for any unit"
is tested with the average :math:`\bar W` and its standardised versions :math:`\bar Z`
(asymptotic, T → ∞ then N → ∞) and :math:`\tilde Z` (fixed T, N → ∞). Numbers follow R
``plm::pgrangertest`` (plm 2.6) and Stata ``xtgcause`` and are checked against plm in
``tests/reference/interaction_granger``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from agglomera.data.checks import require_balanced, require_finite, require_panel
from agglomera.data.panel import Panel
from agglomera.errors import DataError, EstimationError, SpecError, check_int, format_examples
from agglomera.interaction import _granger_core as core

__all__ = ["DHResult", "dumitrescu_hurlin"]

LagSpec = int | Literal["aic", "bic"]

_COLUMNS = [
    "direction",
    "wbar",
    "zbar",
    "zbar_pvalue",
    "ztilde",
    "ztilde_pvalue",
    "lags",
    "n_units",
    "n_periods",
    "bootstrap",
    "zbar_boot_pvalue",
    "ztilde_boot_pvalue",
]


@dataclass(frozen=True)
class DHResult:
    r"""Dumitrescu–Hurlin test of "x does not Granger-cause y" (see :func:`dumitrescu_hurlin`).

    Attributes
    ----------
    y, x : str
        The caused and the causing variable of this direction.
    wbar : float
        :math:`\bar W = N^{-1} \sum_i W_i`.
    zbar, zbar_pvalue : float
        :math:`\bar Z = \sqrt{N/(2K)}\,(\bar W - K)` and its two-sided normal p-value.
    ztilde, ztilde_pvalue : float
        Fixed-T standardisation :math:`\tilde Z` and its two-sided normal p-value; NaN
        when :math:`T \le 5 + 3K` (reason in ``notes``).
    unit_wald, unit_pvalue : pandas.Series
        Per-unit Wald statistics :math:`W_i` and their :math:`\chi^2_K` p-values, indexed
        by unit.
    lags : int
        Lag order K used (chosen by the criterion when ``lags`` was ``"aic"``/``"bic"``).
    n_units, n_periods : int
        N and T (periods of the panel; each regression uses T − K of them).
    notes : tuple of str
        Remarks (why :math:`\tilde Z` is missing, lag selection, failed bootstrap draws).
    bootstrap : int
        Number of bootstrap replications (0: none).
    zbar_boot_pvalue, ztilde_boot_pvalue : float
        Bootstrap p-values (NaN without bootstrap). In a balanced panel with a common K,
        :math:`\bar Z` and :math:`\tilde Z` are increasing affine functions of
        :math:`\bar W`, so the two coincide (``ztilde_boot_pvalue`` is NaN when
        :math:`\tilde Z` is).
    boot_wbar : numpy.ndarray or None
        The bootstrap distribution of :math:`\bar W` under the null.
    block_length : int
        Block length (periods) of the bootstrap.
    seed : int or None
        Seed of the bootstrap (the entropy drawn when ``seed=None`` was given, so that the
        run can be repeated); None without bootstrap.
    lag_selection : pandas.DataFrame or None
        With ``lags="aic"``/``"bic"``: one row per candidate K with the mean criterion
        (``mean_ic``) and ``chosen``.
    reverse : DHResult or None
        The test of the opposite direction (y → x) from the same call; its own
        ``reverse`` is None.
    """

    y: str
    x: str
    wbar: float
    zbar: float
    zbar_pvalue: float
    ztilde: float
    ztilde_pvalue: float
    unit_wald: pd.Series
    unit_pvalue: pd.Series
    lags: int
    n_units: int
    n_periods: int
    notes: tuple[str, ...] = ()
    bootstrap: int = 0
    zbar_boot_pvalue: float = float("nan")
    ztilde_boot_pvalue: float = float("nan")
    boot_wbar: np.ndarray | None = field(default=None, repr=False)
    block_length: int = 1
    seed: int | None = None
    lag_selection: pd.DataFrame | None = field(default=None, repr=False)
    reverse: DHResult | None = field(default=None, repr=False)

    @property
    def direction(self) -> str:
        """The tested direction, ``"x -> y"``."""
        return f"{self.x} -> {self.y}"

    def _row(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "wbar": self.wbar,
            "zbar": self.zbar,
            "zbar_pvalue": self.zbar_pvalue,
            "ztilde": self.ztilde,
            "ztilde_pvalue": self.ztilde_pvalue,
            "lags": self.lags,
            "n_units": self.n_units,
            "n_periods": self.n_periods,
            "bootstrap": self.bootstrap,
            "zbar_boot_pvalue": self.zbar_boot_pvalue,
            "ztilde_boot_pvalue": self.ztilde_boot_pvalue,
        }

    def to_frame(self) -> pd.DataFrame:
        """Return one row per direction (this one, then the reverse).

        Columns: ``direction``, ``wbar``, ``zbar``, ``zbar_pvalue``, ``ztilde``,
        ``ztilde_pvalue``, ``lags``, ``n_units``, ``n_periods``, ``bootstrap``,
        ``zbar_boot_pvalue``, ``ztilde_boot_pvalue``.
        """
        rows = [self._row()]
        if self.reverse is not None:
            rows.append(self.reverse._row())
        return pd.DataFrame(rows, columns=_COLUMNS)

    def table(self, digits: int = 4) -> pd.DataFrame:
        """Return the report table: one row per direction with rounded statistics."""
        frame = self.to_frame()
        out = pd.DataFrame(
            {
                "Null hypothesis": [
                    f"{d.split(' -> ')[0]} does not Granger-cause {d.split(' -> ')[1]}"
                    for d in frame["direction"]
                ],
                "W-bar": frame["wbar"].round(digits),
                "Z-bar": frame["zbar"].round(digits),
                "p (Z-bar)": frame["zbar_pvalue"].round(digits),
                "Z-tilde": frame["ztilde"].round(digits),
                "p (Z-tilde)": frame["ztilde_pvalue"].round(digits),
                "Lags": frame["lags"],
            }
        )
        if self.bootstrap:
            out["Bootstrap p (Z-bar)"] = frame["zbar_boot_pvalue"].round(digits)
        return out

    def summary(self) -> str:
        """Return a plain-text report of both directions."""
        lines = [
            "Dumitrescu-Hurlin (2012) panel Granger non-causality test",
            f"{self.n_units} units x {self.n_periods} periods"
            + (
                f"; bootstrap {self.bootstrap} replications (block length "
                f"{self.block_length}, seed {self.seed})"
                if self.bootstrap
                else ""
            ),
        ]
        for res in (self, self.reverse):
            if res is None:
                continue
            lines += [
                f"H0: {res.x} does not Granger-cause {res.y} (lags {res.lags})",
                f"  W-bar = {res.wbar:.4f}; Z-bar = {res.zbar:.4f} (p = {res.zbar_pvalue:.4g});"
                f" Z-tilde = {res.ztilde:.4f} (p = {res.ztilde_pvalue:.4g})",
            ]
            if res.bootstrap:
                lines.append(
                    f"  bootstrap p: Z-bar {res.zbar_boot_pvalue:.4g}, "
                    f"Z-tilde {res.ztilde_boot_pvalue:.4g}"
                )
            lines += [f"  note: {n}" for n in res.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.summary()) + "</pre>"


def dumitrescu_hurlin(
    panel: Panel,
    y: str,
    x: str,
    *,
    lags: LagSpec = 1,
    bootstrap: int = 0,
    seed: int | None = None,
    max_lags: int | None = None,
    block_length: int = 1,
) -> DHResult:
    r"""Dumitrescu–Hurlin test of "x does not Granger-cause y", and of the reverse.

    Parameters
    ----------
    panel : Panel
        Balanced panel with consecutive periods and no missing values in ``y`` and ``x``.
    y, x : str
        The caused and the causing variable (R ``pgrangertest(y ~ x)``).
    lags : int or {"aic", "bic"}, default 1
        Lag order K, common to all units; ``"aic"``/``"bic"`` choose it (see Notes).
    bootstrap : int, default 0
        Number of bootstrap replications for p-values robust to cross-sectional
        dependence (0: none; see Notes).
    seed : int, optional
        Seed of the bootstrap; the same seed gives the same p-values.
    max_lags : int, optional
        Largest K tried by ``"aic"``/``"bic"``. Default: Schwert's (1989)
        :math:`\lfloor 12 (T/100)^{1/4} \rfloor`, capped at the largest K with
        :math:`T > 5 + 3K` (so that :math:`\tilde Z` exists for every candidate), at
        least 1.
    block_length : int, default 1
        Length of the blocks of consecutive periods resampled by the bootstrap (1:
        periods drawn independently, as in Stata ``xtgcause``).

    Returns
    -------
    DHResult
        ``wbar``, ``zbar``, ``zbar_pvalue``, ``ztilde``, ``ztilde_pvalue``, ``unit_wald``,
        ``lags``, bootstrap p-values and ``reverse`` (the test of y → x, same options).

    Raises
    ------
    DataError
        If the panel is unbalanced, has gaps in the periods, or ``y``/``x`` have missing or
        non-numeric values (naming the units/periods).
    SpecError
        For bad ``lags``, ``max_lags``, ``bootstrap``, ``block_length`` or ``y == x``.
    EstimationError
        If there are too few periods for the unit regressions (:math:`T - K \le 2K + 1`)
        or a unit regression is singular.

    Notes
    -----
    Per unit, over the :math:`T - K` periods with all lags available, the unrestricted
    regression of :math:`y_{it}` on a constant, :math:`y_{i,t-1..K}` and
    :math:`x_{i,t-1..K}` (:math:`2K + 1` coefficients) gives

    .. math:: W_i = \frac{RSS_{r,i} - RSS_{u,i}}{RSS_{u,i} / (T - 3K - 1)},

    the Wald statistic with the OLS covariance (K times the F statistic; R
    ``lmtest::grangertest(..., test = "Chisq")``). With :math:`\bar W = N^{-1}\sum_i W_i`:

    .. math:: \bar Z = \sqrt{\frac{N}{2K}}\,(\bar W - K),

    .. math:: \tilde Z = \sqrt{\frac{N}{2K}\,\frac{T - 3K - 5}{T - 2K - 3}}
              \left(\frac{T - 3K - 3}{T - 3K - 1}\,\bar W - K\right),

    i.e. Dumitrescu & Hurlin's (2012, eq. 26) fixed-T moments with their T set to the
    :math:`T - K` usable periods, as in plm and ``xtgcause``. :math:`\tilde Z` needs
    :math:`T > 5 + 3K`; otherwise it is NaN and ``notes`` says why. p-values are two-sided
    standard normal, as in plm and ``xtgcause`` (large positive values are the evidence
    against the null).

    *Lag selection* (``"aic"``/``"bic"``): for K = 1..``max_lags`` the unrestricted
    regressions of every unit are fitted on the same periods (the last
    :math:`n = T - K_{max}`), the per-unit criterion
    :math:`n \ln(RSS_i/n) + c\,(2K + 1)` (:math:`c = 2` or :math:`\ln n`) is averaged over
    units, and the K with the smallest average is used for the test (which then uses all
    :math:`T - K` usable periods). Each direction chooses its own K. This is the rule of
    Stata ``xtgcause`` (Lopez & Weber 2017).

    *Bootstrap* (Dumitrescu & Hurlin 2012, Sect. 6.2; Lopez & Weber 2017): fit the null
    model :math:`y_{it} = \alpha_i + \sum_k \gamma_{ik} y_{i,t-k} + e_{it}` per unit; in
    each replication draw the residual periods with replacement — blocks of
    ``block_length`` consecutive periods, the **same periods for all units**, so that the
    cross-sectional correlation of the residuals is kept — draw a block of K consecutive
    observed periods as initial values (again common to all units), rebuild
    :math:`y^*` recursively from the fitted null model with x held fixed, and recompute
    :math:`\bar W^*`. The p-value is the upper tail
    :math:`(1 + \#\{\bar W^*_b \ge \bar W\}) / (1 + B)`; it applies to :math:`\bar Z`
    and :math:`\tilde Z` alike because both are increasing in :math:`\bar W`. The lag
    order stays at the K of the original test. Replications in which a unit
    regression is singular are dropped and counted in ``notes``.

    References
    ----------
    .. [1] Dumitrescu, E.-I. and Hurlin, C. (2012). Testing for Granger non-causality in
       heterogeneous panels. *Economic Modelling* 29(4), 1450–1460.
    .. [2] Lopez, L. and Weber, S. (2017). Testing for Granger causality in panel data.
       *The Stata Journal* 17(4), 972–984.
    .. [3] Schwert, G. W. (1989). Tests for unit roots: a Monte Carlo investigation.
       *Journal of Business & Economic Statistics* 7(2), 147–159.
    .. [4] Croissant, Y. and Millo, G. (2008). Panel data econometrics in R: the plm
       package. *Journal of Statistical Software* 27(2).

    Examples
    --------
    >>> from agglomera.datasets import zhejiang_bay
    >>> from agglomera.interaction.granger import dumitrescu_hurlin
    >>> panel = zhejiang_bay(seed=0, end=2110).panel
    >>> res = dumitrescu_hurlin(panel, "talent_latent", "industry_latent")
    >>> bool(res.ztilde_pvalue < 0.01), bool(res.reverse.ztilde_pvalue < 0.01)
    (True, True)
    """
    require_panel(panel, "dumitrescu_hurlin")
    if y == x:
        raise SpecError(f"dumitrescu_hurlin: y and x are the same column ({y!r}).")
    bootstrap = check_int("bootstrap", bootstrap, minimum=0)
    block_length = check_int("block_length", block_length, minimum=1)
    units, times, ymat, xmat = _arrays(panel, y, x)
    t_len = len(times)
    if isinstance(lags, str):
        if lags not in ("aic", "bic"):
            raise SpecError(f"lags must be a positive integer, 'aic' or 'bic'; got {lags!r}.")
        if max_lags is None:
            schwert = int(np.floor(12 * (t_len / 100) ** 0.25))
            max_lags = max(1, min(schwert, (t_len - 6) // 3))
        max_lags = check_int("max_lags", max_lags, minimum=1)
    else:
        lags = check_int("lags", lags, minimum=1)
        if max_lags is not None:
            raise SpecError("max_lags is used only with lags='aic' or 'bic'.")
    seq = np.random.SeedSequence(seed) if bootstrap else None
    children = seq.spawn(2) if seq is not None else [None, None]
    used_seed = int(seq.entropy) if seq is not None else None  # type: ignore[arg-type]
    common: dict[str, Any] = {
        "units": units,
        "unit_name": panel.unit,
        "bootstrap": bootstrap,
        "block_length": block_length,
        "max_lags": max_lags,
        "seed": used_seed,
    }
    forward = _one_direction(ymat, xmat, y, x, lags, children[0], **common)
    backward = _one_direction(xmat, ymat, x, y, lags, children[1], **common)
    return _replace(forward, reverse=backward)


# ---------------------------------------------------------------------------- internals
def _replace(res: DHResult, **changes: Any) -> DHResult:
    from dataclasses import replace

    return replace(res, **changes)


def _arrays(panel: Panel, y: str, x: str) -> tuple[list[Any], np.ndarray, np.ndarray, np.ndarray]:
    """Return unit × time arrays of y and x after checking balance, gaps and values."""
    require_finite(panel, (y, x), "dumitrescu_hurlin", why="The test needs complete series.")
    require_balanced(panel, "dumitrescu_hurlin")
    frame = panel.to_frame()
    times = panel.times
    gaps = np.flatnonzero(np.diff(times) != 1)
    if gaps.size:
        pairs = [(int(times[g]), int(times[g + 1])) for g in gaps]
        raise DataError(
            f"dumitrescu_hurlin: the periods of {panel.time!r} are not consecutive (jumps "
            f"{format_examples(pairs)}); a lag would jump over the gap. Fix: restrict to "
            "consecutive periods with panel.subset(times=...)."
        )
    # a Panel is sorted by (unit, time); balanced → each unit holds the T periods in order
    t_len = len(times)
    n_units = len(frame) // t_len
    return (
        frame[panel.unit].to_numpy()[::t_len].tolist(),
        times,
        frame[y].to_numpy(dtype=float).reshape(n_units, t_len),
        frame[x].to_numpy(dtype=float).reshape(n_units, t_len),
    )


def _one_direction(
    ymat: np.ndarray,
    xmat: np.ndarray,
    y: str,
    x: str,
    lags: LagSpec,
    seq: np.random.SeedSequence | None,
    *,
    units: list[Any],
    unit_name: str,
    bootstrap: int,
    block_length: int,
    max_lags: int | None,
    seed: int | None,
) -> DHResult:
    n_units, t_len = ymat.shape
    notes: list[str] = []
    selection: pd.DataFrame | None = None
    if isinstance(lags, str):
        assert max_lags is not None
        if t_len - max_lags <= 2 * max_lags + 1:
            raise EstimationError(
                f"dumitrescu_hurlin: {t_len} periods are too few to compare lag orders up to "
                f"max_lags={max_lags} (the largest model needs more than {2 * max_lags + 1} "
                f"periods after the first {max_lags}). Fix: use a smaller max_lags."
            )
        ic = core.information_criterion(ymat, xmat, max_lags, lags)
        if not np.all(np.isfinite(ic)):
            raise EstimationError(
                f"dumitrescu_hurlin: the {lags.upper()} of some lag order is not finite (a unit "
                f"regression of {y} fits exactly). Fix: give lags as an integer."
            )
        k = int(np.argmin(ic)) + 1
        selection = pd.DataFrame(
            {
                "lags": np.arange(1, max_lags + 1),
                "mean_ic": ic,
                "chosen": np.arange(1, max_lags + 1) == k,
            }
        )
        notes.append(
            f"lag order {k} chosen by mean {lags.upper()} over units among 1..{max_lags} "
            f"(common sample of the last {t_len - max_lags} periods)"
        )
    else:
        k = int(lags)
    dof = t_len - k - (2 * k + 1)
    if dof < 1:
        raise EstimationError(
            f"dumitrescu_hurlin: {t_len} periods are too few for lag order {k}: each unit "
            f"regression has {t_len - k} usable periods and {2 * k + 1} coefficients. Fix: "
            f"use fewer lags (at most {max(0, (t_len - 2) // 3)}) or a longer panel."
        )
    wald, ok = core.unit_wald(ymat, xmat, k)
    core.check_rank(ok, units, f"{y} on lags of {y} and {x}")
    wbar = float(wald.mean())
    zbar = float(np.sqrt(n_units / (2 * k)) * (wbar - k))
    zbar_p = float(2 * stats.norm.sf(abs(zbar)))
    if t_len > 5 + 3 * k:
        ztilde = _ztilde(wbar, n_units, t_len, k)
        ztilde_p = float(2 * stats.norm.sf(abs(ztilde)))
    else:
        ztilde = ztilde_p = float("nan")
        notes.append(
            f"Z-tilde not computed: its finite-sample moments need T > 5 + 3K = {5 + 3 * k} "
            f"periods, the panel has T = {t_len} (W-bar and Z-bar are valid)"
        )
    index = pd.Index(units, name=unit_name)
    unit_wald = pd.Series(wald, index=index, name="wald")
    unit_p = pd.Series(stats.chi2.sf(wald, k), index=index, name="pvalue")
    boot: np.ndarray | None = None
    zb_p = zt_p = float("nan")
    if bootstrap:
        assert seq is not None
        rng = np.random.default_rng(seq)
        if block_length > t_len - k:
            raise SpecError(
                f"block_length={block_length} exceeds the {t_len - k} residual periods."
            )
        boot = core.bootstrap_wbar(ymat, xmat, k, bootstrap, block_length, rng)
        valid = boot[np.isfinite(boot)]
        if valid.size < boot.size:
            notes.append(
                f"{boot.size - valid.size} of {boot.size} bootstrap replications dropped "
                "(a unit regression was singular)"
            )
        zb_p = float((1 + np.sum(valid >= wbar)) / (1 + valid.size))
        zt_p = zb_p if np.isfinite(ztilde) else float("nan")
    return DHResult(
        y=y,
        x=x,
        wbar=wbar,
        zbar=zbar,
        zbar_pvalue=zbar_p,
        ztilde=ztilde,
        ztilde_pvalue=ztilde_p,
        unit_wald=unit_wald,
        unit_pvalue=unit_p,
        lags=k,
        n_units=n_units,
        n_periods=t_len,
        notes=tuple(notes),
        bootstrap=bootstrap,
        zbar_boot_pvalue=zb_p,
        ztilde_boot_pvalue=zt_p,
        boot_wbar=boot,
        block_length=block_length,
        seed=seed if bootstrap else None,
        lag_selection=selection,
    )


def _ztilde(wbar: float, n: int, t: int, k: int) -> float:
    scale = np.sqrt(n / (2 * k) * (t - 3 * k - 5) / (t - 2 * k - 3))
    return float(scale * ((t - 3 * k - 3) / (t - 3 * k - 1) * wbar - k))
