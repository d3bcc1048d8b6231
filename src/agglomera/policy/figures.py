"""Figures of policy results: event studies and group estimates (matplotlib object API).

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so nothing
is shown or left open; the numbers drawn are the result's own (``event_study`` table,
group estimates), never recomputed here. The placebo density is
:meth:`agglomera.policy.PlaceboResult.plot`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from agglomera.errors import DataError
from agglomera.policy.results import DIDResult

__all__ = ["event_study_figure", "group_estimates_figure"]


def event_study_figure(
    results: DIDResult | Mapping[str, DIDResult],
    *,
    title: str = "",
    xlabel: str = "years relative to treatment",
    ylabel: str = "effect",
    figsize: tuple[float, float] = (6.5, 4.0),
) -> Any:
    """Plot event-study estimates with their confidence intervals.

    Parameters
    ----------
    results : DIDResult or mapping of label to DIDResult
        One result, or several (e.g. ``{"CS": cs, "BJS": bjs}``) drawn side by side with a
        small horizontal offset. Intervals are the result's own ``ci_low``/``ci_high``
        (uniform bands when the result was bootstrapped).
    title, xlabel, ylabel : str
        Labels.
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Points with interval bars per event time, a horizontal line at zero and a vertical
        line between the last pre-period (−1) and the treatment period (0).

    Raises
    ------
    DataError
        If a result has an empty event-study table (e.g. static TWFE).
    """
    from matplotlib.figure import Figure

    series = {"": results} if isinstance(results, DIDResult) else dict(results)
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    offsets = np.linspace(-0.15, 0.15, len(series)) if len(series) > 1 else np.zeros(1)
    for (label, result), offset in zip(series.items(), offsets, strict=True):
        es = result.event_study
        if es.empty:
            raise DataError(
                f"event_study_figure: the {label or result.estimator!r} result has no "
                "event-study table. Fix: estimate with aggregate='dynamic' or an event-study "
                "estimator (cs, bjs, sa, event_study)."
            )
        x = es["rel_time"].to_numpy(dtype=float) + offset
        y = es["estimate"].to_numpy(dtype=float)
        low = y - es["ci_low"].to_numpy(dtype=float)
        high = es["ci_high"].to_numpy(dtype=float) - y
        ax.errorbar(
            x,
            y,
            yerr=np.vstack([low, high]),
            fmt="o",
            markersize=4,
            capsize=2,
            label=label or result.meta.get("estimator_label", result.estimator),
        )
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.axvline(-0.5, color="0.5", linewidth=0.8, linestyle="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def group_estimates_figure(
    estimates: Sequence[tuple[str, float, float, float]],
    *,
    title: str = "",
    xlabel: str = "effect",
    truth: Mapping[str, float] | None = None,
    figsize: tuple[float, float] = (5.5, 3.2),
) -> Any:
    """Plot one estimate per group (e.g. region) with its confidence interval.

    Parameters
    ----------
    estimates : sequence of (label, estimate, ci_low, ci_high)
        One row per group, drawn top to bottom.
    title, xlabel : str
        Labels.
    truth : mapping of label to float, optional
        Known values (simulated data) drawn as crosses.
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    if not estimates:
        raise DataError("group_estimates_figure: no estimates to draw.")
    labels = [row[0] for row in estimates]
    est = np.array([row[1] for row in estimates], dtype=float)
    low = np.array([row[2] for row in estimates], dtype=float)
    high = np.array([row[3] for row in estimates], dtype=float)
    ypos = np.arange(len(labels))[::-1]
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    ax.errorbar(est, ypos, xerr=np.vstack([est - low, high - est]), fmt="o", capsize=3)
    if truth:
        known = [(truth[lab], y) for lab, y in zip(labels, ypos, strict=True) if lab in truth]
        if known:
            tx, ty = zip(*known, strict=True)
            ax.plot(tx, ty, "x", color="C3", label="truth")
            ax.legend(frameon=False)
    ax.axvline(0.0, color="0.5", linewidth=0.8)
    ax.set_yticks(ypos, labels)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
