r"""The one adapter between :mod:`agglomera.policy` and moderndid (dCDH and HonestDiD).

moderndid (Python ports of R ``DIDmultiplegtDYN`` and R ``HonestDiD``) is an optional
dependency pinned to **0.2.0**, the last release that installs on Python 3.11 (0.3 needs
Python ≥ 3.12). Nothing else in agglomera imports it: :mod:`agglomera.policy.dcdh` and
:mod:`agglomera.policy.honest` call the functions below, which

* import moderndid lazily and fail with an :class:`ImportError` that names the extra to
  install (``pip install "moderndid[didhonest]==0.2.0"``);
* convert a :class:`~agglomera.policy.design.TreatmentDesign` into moderndid's long input —
  on a **balanced** panel only, because moderndid 0.2.0 crashes or silently changes its
  estimand on unbalanced panels (``DataError`` otherwise, naming the units and the fix);
* call moderndid and convert its outputs (polars frames, named tuples) to NumPy / pandas.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from agglomera.errors import DataError, format_examples
from agglomera.policy.design import TreatmentDesign

__all__ = [
    "MODERNDID_VERSION",
    "TREATMENT_COLUMN",
    "balanced_frame",
    "did_multiplegt",
    "honest_sensitivity",
    "moderndid_module",
]

#: The moderndid release agglomera is validated against.
MODERNDID_VERSION = "0.2.0"
#: Name of the 0/1 treatment column handed to moderndid (``D_it = 1[g_i > 0, t >= g_i]``).
TREATMENT_COLUMN = "_ag_treated"

_INSTALL = f'pip install "moderndid[didhonest]=={MODERNDID_VERSION}"'


def moderndid_module(name: str = "moderndid") -> ModuleType:
    """Import moderndid (or one of its submodules) lazily.

    Parameters
    ----------
    name : str, default "moderndid"
        Module path, e.g. ``"moderndid.didhonest.sensitivity"``.

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    ImportError
        When moderndid (or, for HonestDiD, its ``cvxpy`` dependency) is not installed,
        with the command that installs the validated version.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"{name} is needed for dCDH and HonestDiD (optional dependency). Install the "
            f"validated version with: {_INSTALL}. Original error: {exc}"
        ) from exc


def installed_version() -> str:
    """Return the installed moderndid version (``"unknown"`` when it does not say)."""
    return str(getattr(moderndid_module(), "__version__", "unknown"))


# ---------------------------------------------------------------------- design -> frame
def balanced_frame(
    design: TreatmentDesign,
    outcome: str,
    *,
    controls: Sequence[str] = (),
    cluster: str | None = None,
) -> pd.DataFrame:
    r"""Long frame of a balanced design for moderndid, with the treatment indicator.

    Parameters
    ----------
    design : TreatmentDesign
        The design; every unit must be observed in every period with a non-missing
        ``outcome``.
    outcome : str
        Numeric outcome column.
    controls : sequence of str, default ()
        Covariate columns to carry along (missing values are an error).
    cluster : str, optional
        Cluster column to carry along (constant within unit).

    Returns
    -------
    pandas.DataFrame
        Columns unit, time, ``outcome``, :data:`TREATMENT_COLUMN`
        (:math:`D_{it} = 1[g_i > 0,\ t \ge g_i]`), the controls and the cluster column,
        sorted by unit and time.

    Raises
    ------
    DataError
        If some units are not observed in every period or miss the outcome in some
        period (naming them and the fix ``design(..., balance="drop")``), or a control
        has missing values.
    """
    wide = design.outcome_matrix(outcome)
    gaps = wide.isna().any(axis=1)
    if gaps.any():
        bad = list(wide.index[gaps.to_numpy()])
        raise DataError(
            f"dCDH / HonestDiD through moderndid {MODERNDID_VERSION} need a balanced panel: "
            f"{len(bad)} units are not observed (or miss {outcome!r}) in every period "
            f"{int(design.times[0])}–{int(design.times[-1])}: {format_examples(bad)}. Fix: "
            "build the design with design(..., balance='drop') (and drop rows with a "
            "missing outcome before building it), which drops and records those units."
        )
    frame = design.panel.to_frame()
    cols = [design.unit, design.time, outcome, *controls]
    if cluster is not None and cluster not in cols:
        cols.append(cluster)
    out = frame[cols].copy()
    for c in controls:
        if out[c].isna().any():
            rows = out.loc[out[c].isna(), [design.unit, design.time]].head(5)
            raise DataError(
                f"control {c!r} has {int(out[c].isna().sum())} missing values, e.g. "
                f"{format_examples(list(rows.itertuples(index=False, name=None)))} "
                "(unit, time). Fix: fill them or drop those units explicitly."
            )
    out[TREATMENT_COLUMN] = design.treated().to_numpy()
    out = out.sort_values([design.unit, design.time], kind="mergesort").reset_index(drop=True)
    return out


# ---------------------------------------------------------------------- dCDH
def did_multiplegt(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    controls: Sequence[str] = (),
    cluster: str | None = None,
    effects: int = 1,
    placebo: int = 0,
    alpha: float = 0.05,
    **options: Any,
) -> Any:
    r"""Call ``moderndid.did_multiplegt`` on a frame built by :func:`balanced_frame`.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long balanced panel with :data:`TREATMENT_COLUMN`.
    unit, time, outcome : str
        Column names.
    controls : sequence of str, default ()
        Covariates (moderndid's ``xformla = "~ x1 + x2"``).
    cluster : str, optional
        Cluster column; None = the unit.
    effects, placebo : int
        Numbers of event-study effects :math:`\ell = 1..L` and placebos.
    alpha : float, default 0.05
        One minus the confidence level (moderndid's ``ci_level = 100 (1 - alpha)``).
    **options
        Passed on to ``moderndid.did_multiplegt`` unchanged.

    Returns
    -------
    moderndid.didinter.container.DIDInterResult
        moderndid's result object.
    """
    md = moderndid_module("moderndid.didinter")
    xformla = "~" + "+".join(controls) if controls else "~1"
    return md.did_multiplegt(
        frame,
        yname=outcome,
        tname=time,
        idname=unit,
        dname=TREATMENT_COLUMN,
        cluster=cluster,
        xformla=xformla,
        effects=int(effects),
        placebo=int(placebo),
        ci_level=100.0 * (1.0 - float(alpha)),
        **options,
    )


# ---------------------------------------------------------------------- HonestDiD
def honest_sensitivity(
    betahat: np.ndarray,
    sigma: np.ndarray,
    num_pre: int,
    num_post: int,
    *,
    method: str,
    grid: Sequence[float] | None,
    l_vec: np.ndarray,
    alpha: float = 0.05,
    ci_method: str | None = None,
    grid_points: int = 100,
    monotonicity_direction: str | None = None,
    bias_direction: str | None = None,
) -> tuple[pd.DataFrame, tuple[float, float]]:
    r"""Robust confidence sets of Rambachan and Roth (2023) through moderndid.

    Calls ``create_sensitivity_results_rm`` (relative magnitudes, :math:`\Delta^{RM}(\bar
    M)`) or ``create_sensitivity_results_sm`` (smoothness, :math:`\Delta^{SD}(M)`) and
    ``construct_original_cs`` — the functions moderndid's ``honest_did`` calls, i.e. the
    ports of R ``HonestDiD::createSensitivityResults_relativeMagnitudes``,
    ``createSensitivityResults`` and ``constructOriginalCS``.

    Parameters
    ----------
    betahat : numpy.ndarray, shape (num_pre + num_post,)
        Event-study coefficients without the reference period, pre-periods first.
    sigma : numpy.ndarray
        Their covariance matrix.
    num_pre, num_post : int
        Numbers of pre- and post-treatment coefficients.
    method : {"relative_magnitude", "smoothness"}
        Restriction class.
    grid : sequence of float or None
        :math:`\bar M` (relative magnitudes) or :math:`M` (smoothness) values; None =
        moderndid's default grid.
    l_vec : numpy.ndarray, shape (num_post,)
        Weights of the post-treatment coefficients that define the target parameter.
    alpha : float, default 0.05
        One minus the confidence level.
    ci_method : str, optional
        Robust-CI construction (``"C-LF"``, ``"Conditional"``, ``"C-F"``, ``"FLCI"``);
        None = moderndid's (and R's) default — C-LF for relative magnitudes, FLCI for
        smoothness without shape restrictions.
    grid_points : int, default 100
        Grid of the test inversion (R ``honest_did`` for ``AGGTEobj`` uses 100).
    monotonicity_direction, bias_direction : str, optional
        Optional shape restrictions (``"increasing"``/``"decreasing"``,
        ``"positive"``/``"negative"``).

    Returns
    -------
    tuple
        ``(robust, original)``: a pandas frame with columns ``param``, ``lb``, ``ub``,
        ``ci_method``, ``delta`` (one row per grid value) and the original interval
        ``(lb, ub)``.
    """
    sens = moderndid_module("moderndid.didhonest.sensitivity")
    kwargs: dict[str, Any] = {
        "betahat": np.asarray(betahat, dtype=float),
        "sigma": np.asarray(sigma, dtype=float),
        "num_pre_periods": int(num_pre),
        "num_post_periods": int(num_post),
        "l_vec": np.asarray(l_vec, dtype=float),
        "alpha": float(alpha),
        "grid_points": int(grid_points),
        "monotonicity_direction": monotonicity_direction,
        "bias_direction": bias_direction,
    }
    if ci_method is not None:
        kwargs["method"] = ci_method
    if method == "relative_magnitude":
        if grid is not None:
            kwargs["m_bar_vec"] = [float(x) for x in grid]
        robust = sens.create_sensitivity_results_rm(**kwargs)
        param_col = "Mbar"
    else:
        if grid is not None:
            kwargs["m_vec"] = [float(x) for x in grid]
        robust = sens.create_sensitivity_results_sm(**kwargs)
        param_col = "m"
    original = sens.construct_original_cs(
        betahat=kwargs["betahat"],
        sigma=kwargs["sigma"],
        num_pre_periods=int(num_pre),
        num_post_periods=int(num_post),
        l_vec=kwargs["l_vec"],
        alpha=float(alpha),
    )
    table = robust.to_pandas() if hasattr(robust, "to_pandas") else pd.DataFrame(robust)
    out = pd.DataFrame(
        {
            "param": table[param_col].to_numpy(dtype=float),
            "lb": table["lb"].to_numpy(dtype=float),
            "ub": table["ub"].to_numpy(dtype=float),
            "ci_method": table["method"].astype(str).to_numpy(),
            "delta": table["delta"].astype(str).to_numpy(),
        }
    )
    return out, (float(original.lb), float(original.ub))
