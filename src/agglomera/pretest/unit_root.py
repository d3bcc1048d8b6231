"""Panel unit-root tests: Levin–Lin–Chu, Im–Pesaran–Shin and Pesaran's CIPS.

The implementations follow R's ``plm`` (``purtest`` and ``cipstest``, plm 2.6) so that
numbers agree with it to rounding error; the conventions are spelled out in each
function's Notes. The moment and critical-value tables are published facts, reproduced as
data with their sources:

* Levin, Lin & Chu (2002), Table 2 — mean and standard-deviation adjustments of the
  pooled t-statistic (as tabulated in plm, by series length ``T``);
* Im, Pesaran & Shin (2003), Table 3 — mean and variance of the individual ADF
  t-statistic by time length and lag order, for the W-tbar statistic;
* Pesaran (2007), Tables II(a)–(c) — critical values of CIPS (and of the truncated CIPS*)
  by N and T.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy import stats

from agglomera.data.checks import require_balanced, require_panel
from agglomera.data.panel import Panel
from agglomera.errors import EstimationError, SpecError, format_examples
from agglomera.pretest.table import (
    PretestResult,
    _check_values,
    _ols,
    _unit_series,
)

__all__ = ["cips", "im_pesaran_shin", "levin_lin_chu"]

Exo = Literal["none", "intercept", "trend"]

# ---------------------------------------------------------------------- published tables
# Levin, Lin & Chu (2002, Table 2): adjustment (mean mu*, sd sigma*) by T, as used by plm.
_LLC_T = np.array([25, 30, 35, 40, 45, 50, 60, 70, 80, 90, 100, 250, 500], dtype=float)
_LLC_ADJ: dict[str, np.ndarray] = {
    "none": np.array(
        [
            [0.004, 1.049], [0.003, 1.035], [0.002, 1.027], [0.002, 1.021], [0.001, 1.017],
            [0.001, 1.014], [0.001, 1.011], [0.000, 1.008], [0.000, 1.007], [0.000, 1.006],
            [0.000, 1.005], [0.000, 1.001], [0.000, 1.000],
        ]
    ),
    "intercept": np.array(
        [
            [-0.554, 0.919], [-0.546, 0.889], [-0.541, 0.867], [-0.537, 0.850],
            [-0.533, 0.837], [-0.531, 0.826], [-0.527, 0.810], [-0.524, 0.798],
            [-0.521, 0.789], [-0.520, 0.782], [-0.518, 0.776], [-0.509, 0.742],
            [-0.500, 0.707],
        ]
    ),
    "trend": np.array(
        [
            [-0.703, 1.003], [-0.674, 0.949], [-0.653, 0.906], [-0.637, 0.871],
            [-0.624, 0.842], [-0.614, 0.818], [-0.598, 0.780], [-0.587, 0.751],
            [-0.578, 0.728], [-0.571, 0.710], [-0.566, 0.695], [-0.533, 0.603],
            [-0.500, 0.500],
        ]
    ),
}  # fmt: skip

# Im, Pesaran & Shin (2003, Table 3): E[t_iT(p)] and Var[t_iT(p)], rows p = 0..8,
# columns T = 10..100 (NaN where the paper gives no value).
_IPS_T = np.array([10, 15, 20, 25, 30, 40, 50, 60, 70, 100], dtype=float)
_NAN = np.nan
_IPS_ADJ: dict[tuple[str, str], np.ndarray] = {
    ("intercept", "mean"): np.array(
        [
            [-1.504, -1.514, -1.522, -1.520, -1.526, -1.523, -1.527, -1.519, -1.524, -1.532],
            [-1.488, -1.503, -1.516, -1.514, -1.519, -1.520, -1.524, -1.519, -1.522, -1.530],
            [-1.319, -1.387, -1.428, -1.443, -1.460, -1.476, -1.493, -1.490, -1.498, -1.514],
            [-1.306, -1.366, -1.413, -1.433, -1.453, -1.471, -1.489, -1.486, -1.495, -1.512],
            [-1.171, -1.260, -1.329, -1.363, -1.394, -1.428, -1.454, -1.458, -1.470, -1.495],
            [_NAN, _NAN, -1.313, -1.351, -1.384, -1.421, -1.451, -1.454, -1.467, -1.494],
            [_NAN, _NAN, _NAN, -1.289, -1.331, -1.380, -1.418, -1.427, -1.444, -1.476],
            [_NAN, _NAN, _NAN, -1.273, -1.319, -1.371, -1.411, -1.423, -1.441, -1.474],
            [_NAN, _NAN, _NAN, -1.212, -1.266, -1.329, -1.377, -1.393, -1.415, -1.456],
        ]
    ),
    ("intercept", "var"): np.array(
        [
            [1.069, 0.923, 0.851, 0.809, 0.789, 0.770, 0.760, 0.749, 0.736, 0.735],
            [1.255, 1.011, 0.915, 0.861, 0.831, 0.803, 0.781, 0.770, 0.753, 0.745],
            [1.421, 1.078, 0.969, 0.905, 0.865, 0.830, 0.798, 0.789, 0.766, 0.754],
            [1.759, 1.181, 1.037, 0.952, 0.907, 0.858, 0.819, 0.802, 0.782, 0.761],
            [2.080, 1.279, 1.097, 1.005, 0.946, 0.886, 0.842, 0.819, 0.801, 0.771],
            [_NAN, _NAN, 1.171, 1.055, 0.980, 0.912, 0.863, 0.839, 0.814, 0.781],
            [_NAN, _NAN, _NAN, 1.114, 1.023, 0.942, 0.886, 0.858, 0.834, 0.795],
            [_NAN, _NAN, _NAN, 1.164, 1.062, 0.968, 0.910, 0.875, 0.851, 0.806],
            [_NAN, _NAN, _NAN, 1.217, 1.105, 0.996, 0.929, 0.896, 0.871, 0.818],
        ]
    ),
    ("trend", "mean"): np.array(
        [
            [-2.166, -2.167, -2.168, -2.167, -2.172, -2.173, -2.176, -2.174, -2.174, -2.177],
            [-2.173, -2.169, -2.172, -2.172, -2.173, -2.177, -2.180, -2.178, -2.176, -2.179],
            [-1.914, -1.999, -2.047, -2.074, -2.095, -2.120, -2.137, -2.143, -2.146, -2.158],
            [-1.922, -1.977, -2.032, -2.065, -2.091, -2.117, -2.137, -2.142, -2.146, -2.158],
            [-1.750, -1.823, -1.911, -1.968, -2.009, -2.057, -2.091, -2.103, -2.114, -2.135],
            [_NAN, _NAN, -1.888, -1.955, -1.998, -2.051, -2.087, -2.101, -2.111, -2.135],
            [_NAN, _NAN, _NAN, -1.868, -1.923, -1.995, -2.042, -2.065, -2.081, -2.113],
            [_NAN, _NAN, _NAN, -1.851, -1.912, -1.986, -2.036, -2.063, -2.079, -2.112],
            [_NAN, _NAN, _NAN, -1.761, -1.835, -1.925, -1.987, -2.024, -2.046, -2.088],
        ]
    ),
    ("trend", "var"): np.array(
        [
            [1.132, 0.869, 0.763, 0.713, 0.690, 0.655, 0.633, 0.621, 0.610, 0.597],
            [1.453, 0.975, 0.845, 0.769, 0.734, 0.687, 0.654, 0.641, 0.627, 0.605],
            [1.627, 1.036, 0.882, 0.796, 0.756, 0.702, 0.661, 0.653, 0.634, 0.613],
            [2.482, 1.214, 0.983, 0.861, 0.808, 0.735, 0.688, 0.674, 0.650, 0.625],
            [3.947, 1.332, 1.052, 0.913, 0.845, 0.759, 0.705, 0.685, 0.662, 0.629],
            [_NAN, _NAN, 1.165, 0.991, 0.899, 0.792, 0.730, 0.705, 0.673, 0.638],
            [_NAN, _NAN, _NAN, 1.055, 0.945, 0.828, 0.753, 0.725, 0.689, 0.650],
            [_NAN, _NAN, _NAN, 1.145, 1.009, 0.872, 0.786, 0.747, 0.713, 0.661],
            [_NAN, _NAN, _NAN, 1.208, 1.063, 0.902, 0.808, 0.766, 0.728, 0.670],
        ]
    ),
}  # fmt: skip

# Pesaran (2007, Tables II(a)-(c)) as tabulated in plm: [level (1 %, 5 %, 10 %), N, T].
_CIPS_N = np.array([10, 15, 20, 30, 50, 70, 100, 200], dtype=float)
_CIPS_T = _CIPS_N.copy()
_CIPS_CV: dict[str, np.ndarray] = {
    "none": np.array(
        [
            [
                [-2.16, -2.03, -2.00, -1.98, -1.97, -1.95, -1.94, -1.95],
                [-2.02, -1.91, -1.89, -1.87, -1.86, -1.86, -1.85, -1.85],
                [-1.93, -1.84, -1.83, -1.80, -1.80, -1.80, -1.79, -1.79],
                [-1.85, -1.77, -1.76, -1.74, -1.74, -1.74, -1.74, -1.73],
                [-1.78, -1.71, -1.70, -1.69, -1.69, -1.68, -1.68, -1.68],
                [-1.74, -1.68, -1.67, -1.67, -1.66, -1.66, -1.65, -1.65],
                [-1.71, -1.66, -1.65, -1.64, -1.63, -1.63, -1.63, -1.63],
                [-1.70, -1.63, -1.62, -1.61, -1.61, -1.61, -1.61, -1.61],
            ],
            [
                [-1.80, -1.74, -1.72, -1.72, -1.72, -1.71, -1.71, -1.71],
                [-1.71, -1.67, -1.65, -1.65, -1.64, -1.65, -1.64, -1.65],
                [-1.67, -1.63, -1.62, -1.61, -1.61, -1.61, -1.61, -1.61],
                [-1.61, -1.58, -1.58, -1.57, -1.57, -1.57, -1.57, -1.57],
                [-1.58, -1.55, -1.54, -1.55, -1.54, -1.54, -1.54, -1.54],
                [-1.56, -1.53, -1.53, -1.54, -1.53, -1.53, -1.53, -1.53],
                [-1.54, -1.52, -1.52, -1.52, -1.52, -1.52, -1.52, -1.52],
                [-1.53, -1.51, -1.50, -1.50, -1.51, -1.51, -1.51, -1.51],
            ],
            [
                [-1.61, -1.58, -1.58, -1.57, -1.58, -1.57, -1.56, -1.57],
                [-1.56, -1.53, -1.52, -1.53, -1.52, -1.52, -1.52, -1.53],
                [-1.52, -1.50, -1.50, -1.50, -1.50, -1.50, -1.50, -1.50],
                [-1.49, -1.48, -1.47, -1.47, -1.47, -1.47, -1.48, -1.47],
                [-1.46, -1.45, -1.45, -1.46, -1.45, -1.46, -1.46, -1.45],
                [-1.45, -1.44, -1.45, -1.45, -1.45, -1.45, -1.45, -1.45],
                [-1.44, -1.44, -1.44, -1.44, -1.44, -1.44, -1.44, -1.44],
                [-1.43, -1.43, -1.43, -1.43, -1.43, -1.43, -1.43, -1.43],
            ],
        ]
    ),
    "drift": np.array(
        [
            [
                [-2.97, -2.66, -2.60, -2.57, -2.55, -2.54, -2.53, -2.53],
                [-2.76, -2.52, -2.47, -2.45, -2.44, -2.43, -2.42, -2.43],
                [-2.64, -2.45, -2.40, -2.38, -2.36, -2.36, -2.36, -2.36],
                [-2.51, -2.34, -2.32, -2.30, -2.30, -2.30, -2.30, -2.30],
                [-2.41, -2.26, -2.25, -2.23, -2.23, -2.23, -2.23, -2.23],
                [-2.37, -2.23, -2.20, -2.19, -2.20, -2.20, -2.20, -2.21],
                [-2.33, -2.19, -2.18, -2.17, -2.17, -2.17, -2.18, -2.18],
                [-2.28, -2.16, -2.14, -2.14, -2.14, -2.14, -2.15, -2.15],
            ],
            [
                [-2.52, -2.37, -2.34, -2.33, -2.33, -2.33, -2.32, -2.32],
                [-2.40, -2.28, -2.26, -2.25, -2.25, -2.25, -2.25, -2.25],
                [-2.33, -2.22, -2.21, -2.20, -2.20, -2.20, -2.20, -2.20],
                [-2.25, -2.17, -2.15, -2.15, -2.16, -2.15, -2.16, -2.16],
                [-2.19, -2.11, -2.11, -2.11, -2.11, -2.12, -2.12, -2.12],
                [-2.16, -2.09, -2.08, -2.08, -2.10, -2.10, -2.10, -2.10],
                [-2.14, -2.07, -2.07, -2.07, -2.08, -2.08, -2.08, -2.08],
                [-2.10, -2.04, -2.04, -2.05, -2.06, -2.06, -2.07, -2.07],
            ],
            [
                [-2.31, -2.22, -2.21, -2.21, -2.21, -2.21, -2.21, -2.21],
                [-2.22, -2.16, -2.14, -2.14, -2.14, -2.15, -2.15, -2.15],
                [-2.18, -2.11, -2.10, -2.11, -2.11, -2.11, -2.11, -2.11],
                [-2.12, -2.07, -2.07, -2.07, -2.08, -2.08, -2.08, -2.08],
                [-2.07, -2.03, -2.03, -2.04, -2.05, -2.05, -2.05, -2.05],
                [-2.05, -2.01, -2.01, -2.02, -2.03, -2.03, -2.03, -2.04],
                [-2.03, -2.00, -2.00, -2.01, -2.02, -2.02, -2.03, -2.03],
                [-2.01, -1.98, -1.99, -2.00, -2.01, -2.01, -2.02, -2.02],
            ],
        ]
    ),
    "trend": np.array(
        [
            [
                [-3.88, -3.24, -3.15, -3.10, -3.06, -3.04, -3.03, -3.03],
                [-3.61, -3.09, -3.01, -2.96, -2.93, -2.93, -2.92, -2.91],
                [-3.46, -3.00, -2.92, -2.88, -2.85, -2.85, -2.85, -2.85],
                [-3.30, -2.89, -2.83, -2.81, -2.78, -2.78, -2.77, -2.77],
                [-3.15, -2.81, -2.76, -2.73, -2.72, -2.71, -2.71, -2.71],
                [-3.10, -2.77, -2.72, -2.69, -2.68, -2.68, -2.68, -2.67],
                [-3.05, -2.74, -2.70, -2.66, -2.65, -2.65, -2.65, -2.65],
                [-2.98, -2.71, -2.65, -2.63, -2.62, -2.62, -2.62, -2.62],
            ],
            [
                [-3.27, -2.93, -2.88, -2.86, -2.84, -2.83, -2.83, -2.83],
                [-3.11, -2.83, -2.78, -2.76, -2.76, -2.76, -2.75, -2.75],
                [-3.02, -2.77, -2.73, -2.72, -2.71, -2.70, -2.70, -2.70],
                [-2.94, -2.70, -2.67, -2.66, -2.65, -2.65, -2.65, -2.65],
                [-2.86, -2.64, -2.62, -2.61, -2.60, -2.61, -2.61, -2.61],
                [-2.82, -2.62, -2.59, -2.58, -2.58, -2.58, -2.59, -2.59],
                [-2.79, -2.60, -2.57, -2.56, -2.56, -2.57, -2.56, -2.57],
                [-2.75, -2.57, -2.55, -2.54, -2.54, -2.54, -2.55, -2.55],
            ],
            [
                [-2.98, -2.76, -2.74, -2.73, -2.73, -2.72, -2.72, -2.73],
                [-2.89, -2.69, -2.67, -2.66, -2.66, -2.66, -2.66, -2.66],
                [-2.82, -2.65, -2.63, -2.63, -2.63, -2.62, -2.63, -2.63],
                [-2.76, -2.60, -2.58, -2.58, -2.58, -2.58, -2.59, -2.59],
                [-2.71, -2.56, -2.54, -2.54, -2.55, -2.55, -2.55, -2.55],
                [-2.68, -2.54, -2.53, -2.52, -2.53, -2.53, -2.53, -2.54],
                [-2.66, -2.52, -2.51, -2.51, -2.51, -2.52, -2.52, -2.52],
                [-2.63, -2.50, -2.49, -2.49, -2.50, -2.50, -2.50, -2.51],
            ],
        ]
    ),
}  # fmt: skip
# Truncated CIPS* (Pesaran 2007, Table II, truncated statistics) differs at T = 10 and 15.
_CIPS_TRUNCATED: dict[str, list[tuple[int, int, list[int] | None, list[float]]]] = {
    # (level index, T column, N rows (None = all), values)
    "trend": [
        (0, 0, None, [-3.51, -3.31, -3.2, -3.1, -3.0, -2.96, -2.93, -2.88]),
        (0, 1, None, [-3.21, -3.07, -2.98, -2.88, -2.8, -2.76, -2.74, -2.7]),
        (1, 0, None, [-3.1, -2.97, -2.89, -2.82, -2.75, -2.73, -2.7, -2.67]),
        (1, 1, None, [-2.92, -2.82, -2.76, -2.69, -2.64, -2.62, -2.59, -2.57]),
        (2, 0, None, [-2.87, -2.78, -2.73, -2.67, -2.63, -2.6, -2.58, -2.56]),
        (2, 1, None, [-2.76, -2.68, -2.64, -2.59, -2.55, -2.53, -2.51, -2.5]),
    ],
    "drift": [
        (0, 0, None, [-2.85, -2.66, -2.56, -2.44, -2.36, -2.32, -2.29, -2.25]),
        (1, 0, None, [-2.47, -2.35, -2.29, -2.22, -2.16, -2.13, -2.11, -2.08]),
        (2, 0, None, [-2.28, -2.2, -2.15, -2.1, -2.05, -2.03, -2.01, -1.99]),
    ],
    "none": [
        (0, 0, None, [-2.14, -2.0, -1.91, -1.84, -1.77, -1.73, -1.71, -1.69]),
        (1, 0, None, [-1.79, -1.71, -1.66, -1.61, -1.57, -1.55, -1.53, -1.52]),
        (2, 0, [1, 3, 6], [-1.55, -1.48, -1.43]),
    ],
}
# Pesaran (2007, p. 275): bounds of the truncated individual CADF statistics.
_CADF_BOUNDS = {"none": (-6.12, 4.16), "drift": (-6.19, 2.61), "trend": (-6.42, 1.70)}

_UNIT_ROOT_NULL = "all series have a unit root"


# ---------------------------------------------------------------------- small helpers
def _n_det(exo: str) -> int:
    return {"none": 0, "intercept": 1, "trend": 2}[exo]


def _deterministic(exo: str, idx: np.ndarray) -> np.ndarray:
    """Columns of the deterministic terms for rows ``idx`` (0-based positions)."""
    if exo == "none":
        return np.empty((len(idx), 0))
    if exo == "intercept":
        return np.ones((len(idx), 1))
    return np.column_stack([np.ones(len(idx)), idx + 1.0])


def _adf_design(y: np.ndarray, p: int, first: int, exo: str) -> tuple[np.ndarray, np.ndarray]:
    """ADF regression Δy_t on (y_{t-1}, Δy_{t-1..t-p}, deterministic) for t >= ``first``."""
    idx = np.arange(first, len(y))
    dy = y[idx] - y[idx - 1]
    cols = [y[idx - 1]] + [y[idx - j] - y[idx - j - 1] for j in range(1, p + 1)]
    x = np.column_stack([*cols, _deterministic(exo, idx)])
    return x, dy


def _fit(x: np.ndarray, y: np.ndarray, dfcor: bool) -> tuple[np.ndarray, np.ndarray, float, float]:
    """OLS: coefficients, standard errors, sigma and RSS (plm's ``my.lm.fit``)."""
    beta, resid, xtx_inv = _ols(x, y)
    rss = float(resid @ resid)
    n, k = x.shape
    if dfcor and n <= k:
        raise EstimationError("too few observations for the ADF regression; use fewer lags.")
    sigma = float(np.sqrt(rss / (n - k) if dfcor else rss / n))
    return beta, sigma * np.sqrt(np.diag(xtx_inv)), sigma, rss


def _select_lag(y: np.ndarray, exo: str, method: str, pmax: int, dfcor: bool) -> int:
    """Lag by AIC or BIC on a common sample (plm's ``lagsel`` with ``fixedT = TRUE``)."""
    crit = []
    for p in range(pmax, -1, -1):
        x, dy = _adf_design(y, p, pmax + 1, exo)
        _, _, _, rss = _fit(x, dy, dfcor)
        n, k = x.shape
        penalty = 2.0 * k / n if method == "aic" else k * np.log(n) / n
        crit.append(np.log(rss / n) + penalty)
    return pmax - int(np.argmin(crit))


def _default_max_lags(t: int, exo: str) -> int:
    """Schwert's rule ``floor(12 (T/100)^{1/4})``, capped at ``(T - 1 - d) // 3``."""
    return max(0, min(int(np.floor(12 * (t / 100) ** 0.25)), (t - 1 - _n_det(exo)) // 3))


def _ips_max_lag(t: int, exo: str) -> int:
    """Largest lag whose IPS (2003) moments exist at ``T - p - 1`` periods (at most 8)."""
    table = _IPS_ADJ[(exo, "mean")]
    best = 0
    for p in range(min(8, t - 2) + 1):
        if not np.isnan(_interp(table[p], float(t - p - 1), _IPS_T)[0]):
            best = p
    return best


def _check_exo(exo: str, allowed: tuple[str, ...], fn: str) -> None:
    if exo not in allowed:
        raise SpecError(f"{fn}: exo must be one of {allowed}; got {exo!r}.")


def _lags_per_unit(
    series: list[tuple[Any, np.ndarray]],
    exo: str,
    lags: str | int,
    max_lags: int | None,
    dfcor: bool,
    fn: str,
) -> tuple[list[int], str, int | None]:
    if isinstance(lags, bool) or not isinstance(lags, (str, int, np.integer)):
        raise SpecError(f"{fn}: lags must be 'aic', 'bic' or a non-negative integer; got {lags!r}.")
    if isinstance(lags, (int, np.integer)):
        if lags < 0:
            raise SpecError(f"{fn}: lags must be >= 0; got {lags}.")
        return [int(lags)] * len(series), f"fixed {int(lags)}", None
    method = lags.lower()
    if method not in ("aic", "bic"):
        raise SpecError(f"{fn}: lags must be 'aic', 'bic' or an integer; got {lags!r}.")
    if max_lags is None:
        pmax = _default_max_lags(min(len(y) for _, y in series), exo)
    else:
        if (
            isinstance(max_lags, bool)
            or not isinstance(max_lags, (int, np.integer))
            or max_lags < 0
        ):
            raise SpecError(f"{fn}: max_lags must be a non-negative integer; got {max_lags!r}.")
        pmax = int(max_lags)
    chosen = [_select_lag(y, exo, method, pmax, dfcor) for _, y in series]
    return chosen, f"{method.upper()}, max {pmax}", pmax


def _select_t(value: float, grid: np.ndarray) -> tuple[int, int, float, str]:
    """Bracketing positions and weight of ``value`` in ``grid`` (plm's ``selectT``)."""
    if value <= grid[0]:
        note = "" if value == grid[0] else f"T = {value:g} is below the table (uses {grid[0]:g})"
        return 0, 0, 0.0, note
    if value >= grid[-1]:
        note = "" if value == grid[-1] else f"T = {value:g} is above the table (uses {grid[-1]:g})"
        return len(grid) - 1, len(grid) - 1, 0.0, note
    hi = int(np.searchsorted(grid, value, side="right"))
    lo = hi - 1
    if grid[lo] == value:
        return lo, lo, 0.0, ""
    return lo, hi, (value - grid[lo]) / (grid[hi] - grid[lo]), ""


def _interp(table: np.ndarray, value: float, grid: np.ndarray) -> tuple[np.ndarray, str]:
    lo, hi, w, note = _select_t(value, grid)
    return table[..., lo] + w * (table[..., hi] - table[..., lo]), note


# ---------------------------------------------------------------------- per-unit ADF
def _unit_adf(y: np.ndarray, p: int, exo: str, dfcor: bool) -> dict[str, Any]:
    if len(y) - p - 1 <= p + 1 + _n_det(exo):
        raise EstimationError(
            f"a series of {len(y)} periods is too short for an ADF regression with {p} lags "
            f"and {exo!r} terms. Fix: use fewer lags."
        )
    x, dy = _adf_design(y, p, p + 1, exo)
    beta, se, sigma, _ = _fit(x, dy, dfcor)
    return {"x": x, "dy": dy, "rho": beta[0], "trho": beta[0] / se[0], "sigma": sigma}


def _long_run_variance(y: np.ndarray, exo: str) -> float:
    """Bartlett-kernel long-run variance of Δy (LLC 2002, eq. 7; lag ``round(3.21 T^{1/3})``)."""
    t = len(y)
    q = int(np.round(3.21 * t ** (1.0 / 3.0)))
    dx = np.diff(y)
    if exo == "intercept":
        dx = dx - dx.mean()
    elif exo == "trend":
        trend = np.column_stack([np.ones(len(dx)), np.arange(1.0, len(dx) + 1)])
        dx = _ols(trend, dx)[1]
    value = float(dx @ dx) / (t - 1)
    for lag in range(1, min(q, len(dx) - 1) + 1):
        value += 2.0 * (1.0 - lag / (q + 1.0)) * float(dx[lag:] @ dx[:-lag]) / (t - 1)
    return value


# ---------------------------------------------------------------------- Levin-Lin-Chu
def levin_lin_chu(
    panel: Panel,
    var: str,
    *,
    exo: Exo = "intercept",
    lags: str | int = "aic",
    max_lags: int | None = None,
    dfcor: bool = False,
) -> PretestResult:
    r"""Levin–Lin–Chu (2002) test of a common unit root against common stationarity.

    Parameters
    ----------
    panel : Panel
        A balanced panel without gaps or missing values in ``var``.
    var : str
        Variable to test.
    exo : {"intercept", "trend", "none"}, default "intercept"
        Deterministic terms ``d_{mt}`` of the ADF regressions.
    lags : {"aic", "bic"} or int, default "aic"
        Augmentation lags ``p_i``: chosen per unit by AIC or BIC (Schwarz) on a common
        sample of ``T - max_lags - 1`` periods, or fixed.
    max_lags : int, optional
        Largest lag considered by ``"aic"``/``"bic"``. Default: Schwert's
        ``floor(12 (T/100)^{1/4})``, capped at ``(T - 1 - d) // 3`` with ``d``
        deterministic terms so that every candidate regression has degrees of freedom.
    dfcor : bool, default False
        Divide residual sums of squares by ``n - k`` instead of ``n`` (plm's default is
        ``False``).

    Returns
    -------
    PretestResult
        ``statistic`` is the adjusted ``t*_δ`` (``z``), standard normal under the null;
        the p-value is the lower tail. ``meta`` holds ``sbar``, ``t_delta``, ``delta``,
        per-unit ``sigma_st``/``sigma_lt`` and the table values ``mu_star``/``sigma_star``.

    Raises
    ------
    DataError
        Unbalanced panel (naming the units), gaps, missing values.

    Notes
    -----
    For each unit the ADF regression
    :math:`\Delta y_{it} = \delta_i y_{i,t-1} + \sum_{L=1}^{p_i} \theta_{iL}
    \Delta y_{i,t-L} + \alpha_{mi} d_{mt} + \varepsilon_{it}` gives
    :math:`\hat\sigma_{\varepsilon i}`. :math:`\Delta y_{it}` and :math:`y_{i,t-1}` are
    each regressed on the lagged differences and :math:`d_{mt}`; the residuals divided by
    :math:`\hat\sigma_{\varepsilon i}` are pooled into
    :math:`\tilde e_{it} = \delta \tilde v_{i,t-1} + \tilde\varepsilon_{it}`, giving
    :math:`t_\delta = \hat\delta / \mathrm{se}(\hat\delta)`. With
    :math:`\hat s_i = \hat\sigma_{yi} / \hat\sigma_{\varepsilon i}`, where
    :math:`\hat\sigma^2_{yi}` is the Bartlett-kernel long-run variance of
    :math:`\Delta y_{it}` (bandwidth :math:`\bar K = \mathrm{round}(3.21 T^{1/3})`),
    :math:`\bar S_N = N^{-1}\sum_i \hat s_i` and :math:`\tilde T = T - \bar p - 1`,

    .. math:: t^*_\delta = \frac{t_\delta - N \tilde T \bar S_N
              \hat\sigma_{\tilde\varepsilon}^{-2}\,\mathrm{se}(\hat\delta)\,
              \mu^*_{m\tilde T}}{\sigma^*_{m\tilde T}} \to N(0, 1).

    Following plm, the adjustments :math:`\mu^*, \sigma^*` (LLC 2002, Table 2) are looked
    up at the series length ``T`` with linear interpolation, and at ``T = 25`` for shorter
    series (recorded in ``meta["note"]``); residual variances use ``n`` (``dfcor=False``).

    References
    ----------
    Levin, A., Lin, C.-F. and Chu, C.-S. J. (2002). Unit root tests in panel data:
    asymptotic and finite-sample properties. *Journal of Econometrics* 108, 1–24.
    """
    fn = "levin_lin_chu"
    panel = require_panel(panel, fn)
    _check_exo(exo, ("none", "intercept", "trend"), fn)
    _check_values(panel, [var], fn)
    require_balanced(panel, fn)
    series = _unit_series(panel, var, fn)
    t = len(series[0][1])
    plags, lag_rule, pmax = _lags_per_unit(series, exo, lags, max_lags, dfcor, fn)
    levels, diffs, sig_st, sig_lt, trhos = [], [], [], [], []
    for (_, y), p in zip(series, plags, strict=True):
        adf = _unit_adf(y, p, exo, dfcor)
        aux = adf["x"][:, 1:]
        dy, ly = adf["dy"], adf["x"][:, 0]
        if aux.shape[1]:
            dy = _ols(aux, dy)[1]
            ly = _ols(aux, ly)[1]
        diffs.append(dy / adf["sigma"])
        levels.append(ly / adf["sigma"])
        sig_st.append(adf["sigma"])
        sig_lt.append(np.sqrt(_long_run_variance(y, exo)))
        trhos.append(adf["trho"])
    e, v = np.concatenate(diffs), np.concatenate(levels)
    n = len(series)
    sxx = float(v @ v)
    delta = float(v @ e) / sxx
    rss = float((e - delta * v) @ (e - delta * v))
    n_tot = len(e)
    sigma = np.sqrt(rss / (n_tot - 1) if dfcor else rss / n_tot)
    sd_delta = float(sigma / np.sqrt(sxx))
    t_delta = delta / sd_delta
    t_tilde = t - float(np.mean(plags)) - 1.0
    sigma_eps2 = rss / (n * t_tilde)
    s_i = np.asarray(sig_lt) / np.asarray(sig_st)
    sbar = float(s_i.mean())
    adj, note = _interp(_LLC_ADJ[exo].T, float(t), _LLC_T)
    mu_star, sigma_star = float(adj[0]), float(adj[1])
    stat = (t_delta - n * t_tilde * sbar / sigma_eps2 * sd_delta * mu_star) / sigma_star
    return PretestResult(
        test="Levin-Lin-Chu",
        variable=var,
        statistic_name="z",
        statistic=float(stat),
        pvalue=float(stats.norm.cdf(stat)),
        null="common unit root (δ = 0); alternative: all series stationary",
        deterministic=exo,
        lags=tuple(plags),
        n_units=n,
        n_periods=t,
        meta={
            "lag_rule": lag_rule,
            "max_lags": pmax,
            "dfcor": dfcor,
            "delta": delta,
            "t_delta": t_delta,
            "sbar": sbar,
            "mu_star": mu_star,
            "sigma_star": sigma_star,
            "sigma_st": tuple(sig_st),
            "sigma_lt": tuple(float(s) for s in sig_lt),
            "unit_t": tuple(float(x) for x in trhos),
            "units": tuple(u for u, _ in series),
            "note": note,
        },
    )


# ---------------------------------------------------------------------- Im-Pesaran-Shin
def im_pesaran_shin(
    panel: Panel,
    var: str,
    *,
    exo: Literal["intercept", "trend"] = "intercept",
    lags: str | int = "aic",
    max_lags: int | None = None,
    dfcor: bool = False,
) -> PretestResult:
    r"""Im–Pesaran–Shin (2003) W-tbar test: unit root in all series vs some stationary.

    Parameters
    ----------
    panel : Panel
        Panel without gaps or missing values in ``var``; units may cover different
        periods (each series is used as observed).
    var : str
        Variable to test.
    exo : {"intercept", "trend"}, default "intercept"
        Deterministic terms of the ADF regressions.
    lags, max_lags, dfcor :
        As in :func:`levin_lin_chu`; the default ``max_lags`` is further capped at the
        largest lag order for which Im, Pesaran & Shin (2003, Table 3) tabulate moments at
        the shortest series' length (e.g. 4 for ``T = 20``).

    Returns
    -------
    PretestResult
        ``statistic`` is :math:`W_{\bar t}` (standard normal under the null; lower-tail
        p-value). ``meta`` holds ``tbar``, the per-unit ADF t-statistics and the averaged
        table moments ``E_tbar`` and ``V_tbar``.

    Notes
    -----
    With :math:`t_{iT}(p_i)` the t-ratio of :math:`y_{i,t-1}` in the ADF regression of
    unit *i* and :math:`\bar t = N^{-1} \sum_i t_{iT}(p_i)`,

    .. math:: W_{\bar t} = \frac{\sqrt{N}\,\bigl(\bar t - N^{-1}\sum_i
              E[t_{iT}(p_i)]\bigr)}{\sqrt{N^{-1}\sum_i \mathrm{Var}[t_{iT}(p_i)]}}
              \to N(0, 1),

    with the moments from Im, Pesaran & Shin (2003, Table 3) at :math:`T_i - p_i - 1`
    periods and lag order :math:`p_i` (capped at 8), linearly interpolated in ``T`` as
    in plm. As in plm the t-ratios use :math:`\hat\sigma^2 = RSS/n` (``dfcor=False``).

    References
    ----------
    Im, K. S., Pesaran, M. H. and Shin, Y. (2003). Testing for unit roots in
    heterogeneous panels. *Journal of Econometrics* 115, 53–74.
    """
    fn = "im_pesaran_shin"
    panel = require_panel(panel, fn)
    _check_exo(exo, ("intercept", "trend"), fn)
    series = _unit_series(panel, var, fn)
    if max_lags is None and isinstance(lags, str):
        shortest = min(len(y) for _, y in series)
        max_lags = min(_default_max_lags(shortest, exo), _ips_max_lag(shortest, exo))
    plags, lag_rule, pmax = _lags_per_unit(series, exo, lags, max_lags, dfcor, fn)
    trho, means, variances, notes = [], [], [], set()
    missing_moments = []
    for (unit, y), p in zip(series, plags, strict=True):
        trho.append(_unit_adf(y, p, exo, dfcor)["trho"])
        mv, note = _interp(
            np.stack([_IPS_ADJ[(exo, "mean")][min(p, 8)], _IPS_ADJ[(exo, "var")][min(p, 8)]]),
            float(len(y) - p - 1),
            _IPS_T,
        )
        if note:
            notes.add(note)
        if p > 8:
            notes.add("lags above 8 use the moments for 8 lags")
        if np.isnan(mv).any():
            missing_moments.append(unit)
        means.append(float(mv[0]))
        variances.append(float(mv[1]))
    if missing_moments:
        raise EstimationError(
            f"{fn}: Im-Pesaran-Shin (2003, Table 3) gives no moments for the lag order chosen "
            f"for units {format_examples(missing_moments)} at their series length. Fix: "
            "use fewer lags (lags=... or max_lags=...)."
        )
    n = len(series)
    tbar = float(np.mean(trho))
    e_tbar, v_tbar = float(np.mean(means)), float(np.mean(variances))
    stat = np.sqrt(n) * (tbar - e_tbar) / np.sqrt(v_tbar)
    return PretestResult(
        test="Im-Pesaran-Shin",
        variable=var,
        statistic_name="W_tbar",
        statistic=float(stat),
        pvalue=float(stats.norm.cdf(stat)),
        null=_UNIT_ROOT_NULL + "; alternative: some series stationary",
        deterministic=exo,
        lags=tuple(plags),
        n_units=n,
        n_periods=len(panel.times),
        meta={
            "lag_rule": lag_rule,
            "max_lags": pmax,
            "dfcor": dfcor,
            "tbar": tbar,
            "E_tbar": e_tbar,
            "V_tbar": v_tbar,
            "unit_t": tuple(float(x) for x in trho),
            "units": tuple(u for u, _ in series),
            "note": "; ".join(sorted(notes)),
        },
    )


# ---------------------------------------------------------------------- Pesaran CIPS
def _approx_point(x0: float, x1: float, y0: float, y1: float, value: float) -> float:
    """Reproduce plm's ``approx(c(x0, x1), c(y0, y1), n = x1 - x0)$y[value - x0]``."""
    m = int(x1 - x0)
    k = int(value - x0)
    xout = x0 + (k - 1) * (x1 - x0) / (m - 1)
    return y0 + (xout - x0) / (x1 - x0) * (y1 - y0)


def _cips_critical_values(n: int, t: int, type_: str, truncated: bool) -> np.ndarray:
    """1 %, 5 %, 10 % critical values at (n, t), interpolated as plm's ``critvals.cips``."""
    table = _CIPS_CV[type_].copy()
    if truncated:
        for level, col, rows, values in _CIPS_TRUNCATED[type_]:
            if rows is None:
                table[level, :, col] = values
            else:
                table[level, rows, col] = values
    grid = _CIPS_N
    nl = int(np.searchsorted(grid, n, side="right")) - 1
    tl = int(np.searchsorted(grid, t, side="right")) - 1
    n_in, t_in = n in grid, t in grid
    cv = np.empty(3)
    for i in range(3):
        if n_in:
            r = int(np.flatnonzero(grid == n)[0])
            if t_in:
                cv[i] = table[i, r, int(np.flatnonzero(grid == t)[0])]
                continue
            low, high = table[i, r, tl], table[i, r, tl + 1]
        else:
            x0, x1 = grid[nl], grid[nl + 1]
            if t_in:
                c = int(np.flatnonzero(grid == t)[0])
                cv[i] = _approx_point(x0, x1, table[i, nl, c], table[i, nl + 1, c], n)
                continue
            low = _approx_point(x0, x1, table[i, nl, tl], table[i, nl + 1, tl], n)
            high = _approx_point(x0, x1, table[i, nl, tl + 1], table[i, nl + 1, tl + 1], n)
        cv[i] = _approx_point(grid[tl], grid[tl + 1], low, high, t)
    return cv


def _cips_pvalue(stat: float, cv: np.ndarray) -> tuple[float, str]:
    """p-value from three critical values, as plm: a 200-point linear grid, then a midpoint."""
    if stat < cv.min():
        return 0.01, "<"
    if stat > cv.max():
        return 0.10, ">"
    levels = np.array([0.01, 0.05, 0.10])
    hit = np.flatnonzero(cv == stat)
    if hit.size:
        return float(levels[hit[0]]), ""
    order = np.argsort(cv)
    grid = np.linspace(cv.min(), cv.max(), 200)
    pgrid = np.interp(grid, cv[order], levels[order])
    k = int(np.searchsorted(grid, stat, side="right"))  # R's findInterval (1-based)
    return float(np.mean(pgrid[k - 1 : k + 1])), ""


def cips(
    panel: Panel,
    var: str,
    *,
    lags: int = 1,
    type: Literal["drift", "trend", "none"] = "drift",
    truncated: bool = False,
) -> PretestResult:
    r"""Pesaran (2007) CIPS test, robust to one common factor (second generation).

    Parameters
    ----------
    panel : Panel
        A balanced panel without gaps or missing values in ``var``.
    var : str
        Variable to test.
    lags : int, default 1
        Augmentation lags ``p`` of the CADF regressions (the same for every unit).
    type : {"drift", "trend", "none"}, default "drift"
        Deterministic terms: intercept, intercept and trend, or none.
    truncated : bool, default False
        Truncate the individual CADF statistics to Pesaran's bounds (CIPS*), with the
        critical values of the truncated statistic.

    Returns
    -------
    PretestResult
        ``statistic`` is CIPS; the p-value is interpolated in Pesaran's (2007) tables of
        1 %, 5 % and 10 % critical values and bounded to [0.01, 0.10]
        (``pvalue_bound`` is ``"<"`` or ``">"`` at a bound). ``meta`` holds the per-unit
        CADF statistics and the interpolated critical values.

    Notes
    -----
    For each unit the cross-sectionally augmented ADF regression (Pesaran 2007, eq. 54)

    .. math:: \Delta y_{it} = a_i + b_i y_{i,t-1} + c_i \bar y_{t-1}
              + \sum_{j=0}^{p} d_{ij} \Delta\bar y_{t-j}
              + \sum_{j=1}^{p} \delta_{ij} \Delta y_{i,t-j} + e_{it}

    (plus a trend for ``type="trend"``; no intercept for ``"none"``), with
    :math:`\bar y_t` the cross-section mean, gives :math:`\mathrm{CADF}_i`, the OLS
    t-ratio of :math:`b_i`. :math:`\mathrm{CIPS} = N^{-1}\sum_i \mathrm{CADF}_i`. The
    critical values are taken at ``N`` units and ``T - p - 1`` usable periods with plm's
    interpolation between table entries (which evaluates the interpolating line at a
    slightly shifted point, reproduced here); the p-value is the midpoint of the two
    nearest points of a 200-point linear interpolation between the critical values.
    ``N`` or ``T`` above 200 use the last table row/column; below 10 the table does
    not apply and the p-value is NaN (noted in ``meta["note"]``).

    References
    ----------
    Pesaran, M. H. (2007). A simple panel unit root test in the presence of
    cross-section dependence. *Journal of Applied Econometrics* 22, 265–312.
    """
    fn = "cips"
    panel = require_panel(panel, fn)
    if type not in ("drift", "trend", "none"):
        raise SpecError(f"{fn}: type must be 'drift', 'trend' or 'none'; got {type!r}.")
    if isinstance(lags, bool) or not isinstance(lags, (int, np.integer)) or lags < 0:
        raise SpecError(f"{fn}: lags must be a non-negative integer; got {lags!r}.")
    _check_values(panel, [var], fn)
    require_balanced(panel, fn)
    series = _unit_series(panel, var, fn)
    y = np.vstack([s for _, s in series])  # n x T
    n, t = y.shape
    p = int(lags)
    idx = np.arange(p + 1, t)
    t_used = len(idx)
    dep = y[:, idx] - y[:, idx - 1]
    regs = [y[:, idx - 1]] + [y[:, idx - j] - y[:, idx - j - 1] for j in range(1, p + 1)]
    means = [dep.mean(axis=0)] + [r.mean(axis=0) for r in regs]
    det = {"none": 0, "drift": 1, "trend": 2}[type]
    k = len(regs) + len(means) + det
    if t_used <= k:
        raise EstimationError(
            f"{fn}: {t_used} usable periods are too few for CADF regressions with {k} "
            "coefficients. Fix: use fewer lags."
        )
    cadf = np.empty(n)
    for i in range(n):
        cols = [r[i] for r in regs] + means
        if det >= 1:
            cols.append(np.ones(t_used))
        if det == 2:
            cols.append(idx + 1.0)
        x = np.column_stack(cols)
        beta, resid, xtx_inv = _ols(x, dep[i])
        s2 = float(resid @ resid) / (t_used - k)
        cadf[i] = beta[0] / np.sqrt(s2 * xtx_inv[0, 0])
    raw = cadf.copy()
    if truncated:
        lo, hi = _CADF_BOUNDS[type]
        cadf = np.clip(cadf, lo, hi)
    stat = float(cadf.mean())
    notes = []
    n_tab, t_tab = min(n, 200), min(t_used, 200)
    if n > 200 or t_used > 200:
        notes.append("N or T above 200: critical values at 200")
    if n_tab < 10 or t_tab < 10:
        notes.append(f"N = {n}, T = {t_used}: below Pesaran's (2007) tables (10); no p-value")
        cv = np.full(3, np.nan)
        pvalue, bound = np.nan, ""
    else:
        cv = _cips_critical_values(n_tab, t_tab, type, truncated)
        pvalue, bound = _cips_pvalue(stat, cv)
    return PretestResult(
        test="Pesaran CIPS" + ("*" if truncated else ""),
        variable=var,
        statistic_name="CIPS",
        statistic=stat,
        pvalue=pvalue,
        pvalue_bound=bound,
        null=_UNIT_ROOT_NULL + "; alternative: some series stationary",
        deterministic=type,
        lags=(p,) * n,
        n_units=n,
        n_periods=t,
        meta={
            "cadf": tuple(float(c) for c in raw),
            "critical_values": {"1%": cv[0], "5%": cv[1], "10%": cv[2]},
            "t_used": t_used,
            "truncated": truncated,
            "units": tuple(u for u, _ in series),
            "note": "; ".join(notes),
        },
    )
