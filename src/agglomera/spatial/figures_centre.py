"""Figure of the gravity-centre path with the standard deviational ellipses.

Built with the object-oriented matplotlib API (``Figure()``): nothing is shown and no
global figure is registered; the caller saves it. The numbers come from
:func:`agglomera.spatial.centre.gravity_centre` and
:func:`agglomera.spatial.centre.std_ellipse`; this module only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from agglomera.errors import DataError
from agglomera.spatial.centre import CentreResult, EllipseResult

__all__ = ["centre_path_figure"]


def centre_path_figure(
    centre: CentreResult,
    ellipses: EllipseResult | None = None,
    *,
    years: Sequence[int] | None = None,
    title: str | None = None,
    label_every: int = 1,
) -> Figure:
    """Plot the gravity-centre path (lon/lat) and, optionally, standard deviational ellipses.

    Parameters
    ----------
    centre : CentreResult
        From :func:`~agglomera.spatial.centre.gravity_centre`.
    ellipses : EllipseResult, optional
        From :func:`~agglomera.spatial.centre.std_ellipse`; drawn in a second panel.
    years : sequence of int, optional
        Periods whose ellipses are drawn (default: first, middle and last).
    title : str, optional
        Figure title.
    label_every : int, default 1
        Label every k-th point of the path with its period.

    Returns
    -------
    matplotlib.figure.Figure
    """
    path = centre.path
    n_ax = 2 if ellipses is not None else 1
    fig = Figure(figsize=(5.5 * n_ax, 4.8), constrained_layout=True)
    axes = fig.subplots(1, n_ax, squeeze=False)[0]
    ax = axes[0]
    ax.plot(path["lon"], path["lat"], "-o", color="#1f4e79", markersize=3, linewidth=1.2)
    times = path["time"].to_numpy(dtype=np.int64)
    lons = path["lon"].to_numpy(dtype=float)
    lats = path["lat"].to_numpy(dtype=float)
    for k in range(len(times)):
        if label_every > 0 and k % label_every == 0:
            ax.annotate(
                str(times[k]),
                (lons[k], lats[k]),
                textcoords="offset points",
                xytext=(3, 3),
                fontsize=7,
            )
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.set_title(
        f"Gravity centre of {centre.meta.get('weight')} — path {centre.total_km:.1f} km",
        fontsize=9,
    )
    ax.ticklabel_format(useOffset=False)
    if ellipses is not None:
        ax2 = axes[1]
        table = ellipses.ellipses
        ell_times = [int(v) for v in table["time"]]
        if years is None:
            chosen = sorted({ell_times[0], ell_times[len(ell_times) // 2], ell_times[-1]})
        else:
            missing = [y for y in years if y not in ell_times]
            if missing:
                raise DataError(f"no ellipse for years {missing}; available: {ell_times}.")
            chosen = list(years)
        colours = [
            (0.12 + 0.6 * f, 0.3, 0.75 - 0.5 * f) for f in np.linspace(0, 1, max(len(chosen), 2))
        ]
        for y, colour in zip(chosen, colours, strict=False):
            pts = ellipses.outline(y)
            row = table[table["time"] == y].iloc[0]
            ax2.plot(pts["lon"], pts["lat"], color=colour, linewidth=1.2, label=str(y))
            ax2.plot([row["lon"]], [row["lat"]], "+", color=colour)
        ax2.set_xlabel("longitude (°E)")
        ax2.set_ylabel("latitude (°N)")
        ax2.set_title("Standard deviational ellipses", fontsize=9)
        ax2.legend(fontsize=7)
        ax2.set_aspect(1.0 / np.cos(np.radians(float(table["lat"].mean()))))
    if title:
        fig.suptitle(title)
    return fig
