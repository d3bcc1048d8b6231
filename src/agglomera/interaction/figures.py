"""Figures of industry–talent interaction results (matplotlib object API).

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so nothing
is shown or left open; the numbers drawn are the result's own, never recomputed here.
A file is written only when ``path`` is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agglomera.errors import DataError, format_examples

__all__ = ["irf_figure"]

_IRF_COLUMNS = ("impulse", "response", "step", "irf", "lower", "upper")


def irf_figure(
    frame: pd.DataFrame,
    *,
    title: str = "",
    figsize: tuple[float, float] | None = None,
    path: str | Path | None = None,
) -> Any:
    """Plot impulse responses with their bands, one panel per (response, impulse).

    Parameters
    ----------
    frame : DataFrame
        The tidy frame of :meth:`agglomera.interaction.panel_var.PanelVARResult.irf`
        (columns ``impulse``, ``response``, ``step``, ``irf``, ``lower``, ``upper``).
        Its ``attrs`` (kind, ordering, level, bands) label the figure when present.
    title : str, optional
        Figure title; by default the kind of response, the ordering and the band.
    figsize : tuple of float, optional
        Size in inches (default about 2.8 × 2 inches per panel).
    path : str or Path, optional
        When given, the figure is also saved there (format from the suffix).

    Returns
    -------
    matplotlib.figure.Figure
        Rows = responses, columns = impulses (in the frame's order of appearance); the
        response line, a shaded band between ``lower`` and ``upper`` (omitted when they
        are missing) and a zero line.

    Raises
    ------
    DataError
        If a required column is missing or the frame is empty.
    """
    from matplotlib.figure import Figure

    missing = [c for c in _IRF_COLUMNS if c not in frame.columns]
    if missing or frame.empty:
        raise DataError(
            f"irf_figure: needs the frame returned by PanelVARResult.irf(); missing columns "
            f"{format_examples(missing) if missing else '(none, but the frame is empty)'}."
        )
    impulses = list(dict.fromkeys(frame["impulse"]))
    responses = list(dict.fromkeys(frame["response"]))
    ni, nr = len(impulses), len(responses)
    size = figsize or (2.8 * ni + 0.8, 2.0 * nr + 0.9)
    fig = Figure(figsize=size)
    axes = fig.subplots(nr, ni, squeeze=False, sharex=True)
    attrs = frame.attrs
    for r, resp in enumerate(responses):
        for c, imp in enumerate(impulses):
            ax = axes[r][c]
            g = frame[(frame["impulse"] == imp) & (frame["response"] == resp)].sort_values("step")
            x = g["step"].to_numpy(dtype=float)
            lo = g["lower"].to_numpy(dtype=float)
            hi = g["upper"].to_numpy(dtype=float)
            if np.isfinite(lo).any():
                ax.fill_between(x, lo, hi, color="C0", alpha=0.2, linewidth=0)
            ax.plot(x, g["irf"].to_numpy(dtype=float), color="C0", linewidth=1.5)
            ax.axhline(0.0, color="0.5", linewidth=0.8)
            ax.tick_params(labelsize=8)
            if r == 0:
                ax.set_title(f"shock: {imp}", fontsize=9)
            if c == 0:
                ax.set_ylabel(resp, fontsize=9)
            if r == nr - 1:
                ax.set_xlabel("step", fontsize=9)
    if not title:
        kind = attrs.get("kind", "")
        parts = [f"{kind} impulse responses".strip().capitalize()]
        if attrs.get("ordering"):
            parts.append("ordering " + " → ".join(map(str, attrs["ordering"])))
        if attrs.get("bands"):
            parts.append(
                f"{100 * attrs.get('level', 0.95):.0f}% {attrs['bands']} bands "
                f"({attrs.get('draws', '')} draws)"
            )
        title = parts[0] + ("\n" + "; ".join(parts[1:]) if len(parts) > 1 else "")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(Path(path), dpi=150)
    return fig
