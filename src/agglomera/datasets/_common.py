"""Shared pieces of the example-data generators (internal).

:class:`ExampleData` is the result type of every generator in :mod:`agglomera.datasets`;
the helpers below read the real geography (adcodes, census population) from
:mod:`agglomera.reference` and draw the smooth random paths the generators share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from agglomera.data.panel import Panel
from agglomera.errors import SpecError

__all__ = ["ExampleData"]


@dataclass(frozen=True)
class ExampleData:
    """Simulated example panel on real geography, with the truth that generated it.

    Parameters
    ----------
    panel : Panel
        The generated city-year panel (what an analyst would observe).
    truth : dict
        The true parameters and effects of the data-generating process (plain Python
        floats, ints, strings, lists and dicts, so it can be dumped to JSON after turning
        integer keys into strings). Which keys exist depends on the generator; each
        generator's docstring lists them.
    description : str
        The data-generating process in words (and formulas), including every coding rule
        applied to the real reference data.
    name : str
        The generator that produced the data, with its arguments.

    Notes
    -----
    The data are **simulated**: the geography (6-digit administrative codes, regions,
    census population) and the policy dates (national innovative-city pilot years) are
    real; every other number is drawn from the documented process. Do not cite the values
    as facts about the cities.
    """

    panel: Panel
    truth: dict[str, Any] = field(repr=False)
    description: str = field(repr=False)
    name: str = ""

    def to_frame(self) -> pd.DataFrame:
        """Return the panel as a tidy pandas DataFrame (a copy, sorted by unit and time)."""
        return self.panel.to_frame()

    def truth_frame(self, key: str) -> pd.DataFrame:
        """Return one tabular entry of :attr:`truth` as a DataFrame.

        Parameters
        ----------
        key : str
            A truth entry that is a list of records (e.g. ``"att_by_cohort_time"``) or a
            dict of equal-length lists (e.g. ``"potential_outcomes"``).

        Raises
        ------
        SpecError
            If the key does not exist or is not tabular.
        """
        if key not in self.truth:
            raise SpecError(
                f"truth has no entry {key!r}; available: {', '.join(sorted(self.truth))}."
            )
        value = self.truth[key]
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            return pd.DataFrame.from_records(value)
        if isinstance(value, dict) and value and all(isinstance(v, list) for v in value.values()):
            return pd.DataFrame(value)
        raise SpecError(
            f"truth[{key!r}] is not tabular (a list of records or a dict of lists); read it "
            "directly instead."
        )

    def summary(self) -> str:
        """Return a short text summary: generator, panel shape and the scalar truths."""
        p = self.panel
        times = p.times
        lines = [
            f"ExampleData {self.name}".rstrip(),
            f"  panel: {len(p.units)} units x {len(times)} periods "
            f"({times.min()}-{times.max()}), {p.n_obs} rows; unit={p.unit!r}, time={p.time!r}",
            f"  variables: {', '.join(p.variables)}",
            "  truth:",
        ]
        for key, value in self.truth.items():
            if isinstance(value, (int, float, str)) and not isinstance(value, bool):
                text = f"{value:.6g}" if isinstance(value, float) else str(value)
                if len(text) > 90:
                    text = text[:87] + "..."
                lines.append(f"    {key}: {text}")
            elif (
                isinstance(value, dict)
                and all(isinstance(v, (int, float)) for v in value.values())
                and len(value) <= 8
            ):
                inner = ", ".join(
                    f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}"
                    for k, v in value.items()
                )
                lines.append(f"    {key}: {{{inner}}}")
            else:
                size = len(value) if hasattr(value, "__len__") else 1
                lines.append(f"    {key}: <{type(value).__name__}, {size} entries>")
        lines.append("  Simulated data on real geography and real policy dates; see .description.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"


# ---------------------------------------------------------------------- argument checks
def check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """Validate an integer argument (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise SpecError(f"{name} must be an integer; got {value!r}.")
    out = int(value)
    if minimum is not None and out < minimum:
        raise SpecError(f"{name} must be at least {minimum}; got {out}.")
    return out


def check_window(start: Any, end: Any, *, min_years: int = 2) -> tuple[int, int]:
    """Validate a ``start``–``end`` year window."""
    start_i = check_int("start", start)
    end_i = check_int("end", end)
    if end_i - start_i + 1 < min_years:
        raise SpecError(
            f"the window start={start_i}, end={end_i} must span at least {min_years} years."
        )
    return start_i, end_i


def check_seed(seed: Any) -> int:
    """Validate a seed (a non-negative integer)."""
    return check_int("seed", seed, minimum=0)


# ---------------------------------------------------------------------- reference helpers
def reference_module() -> Any:
    """Import :mod:`agglomera.reference` (kept in one place so the import is lazy)."""
    import importlib

    return importlib.import_module("agglomera.reference")


def year_of(value: Any) -> float:
    """Year of a ``valid_from``/``valid_to`` entry; NaN when missing (open-ended)."""
    if value is None:
        return math.nan
    try:
        if pd.isna(value):
            return math.nan
    except (TypeError, ValueError):
        pass
    if isinstance(value, (int, np.integer)):
        return float(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, pd.Timestamp):
        return float(value.year)
    text = str(value).strip()
    if not text:
        return math.nan
    return float(text[:4])


def population_10k(table: pd.DataFrame, adcodes: list[str], years: np.ndarray) -> np.ndarray:
    """Census population interpolated to ``years``, in 10,000 persons.

    ``pop_t = pop2010 · (pop2020 / pop2010) ** ((t − 2010) / 10)`` — log-linear
    interpolation between the 2010 and 2020 censuses, extrapolated outside 2010–2020.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`agglomera.reference.cities` output (``adcode``, ``pop2010``, ``pop2020``).
    adcodes : list of str
        Units, in the order of the result's rows.
    years : numpy.ndarray
        Years, in the order of the result's columns.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(adcodes), len(years))``.
    """
    ref = table.set_index("adcode")
    p10 = _as_float(ref["pop2010"].reindex(adcodes))
    p20 = _as_float(ref["pop2020"].reindex(adcodes))
    bad = ~(np.isfinite(p10) & np.isfinite(p20) & (p10 > 0) & (p20 > 0))
    if bad.any():
        missing = [a for a, b in zip(adcodes, bad, strict=True) if b]
        raise SpecError(
            f"census population 2010/2020 is missing for {missing[:5]} in "
            "agglomera.reference.cities(); these units cannot be simulated."
        )
    # The census counts persons; yearbooks (and these panels) use 10,000 persons.
    scale = 1e-4 if np.median(p10) > 1e5 else 1.0
    p10 = p10 * scale
    p20 = p20 * scale
    expo = (years.astype(float) - 2010.0) / 10.0
    return np.asarray(p10[:, None] * (p20 / p10)[:, None] ** expo[None, :])


def _as_float(values: pd.Series) -> np.ndarray:
    """Numeric values as float64 with missing values (including ``pd.NA``) as NaN."""
    numeric = pd.to_numeric(values, errors="coerce").astype("Float64")
    return np.asarray(numeric.to_numpy(dtype=float, na_value=np.nan))


# ---------------------------------------------------------------------- random paths
def ar1(rng: np.random.Generator, shape: tuple[int, int], rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) paths along axis 1: ``x_t = rho x_{t-1} + eta_t``, ``eta ~ N(0, sd²)``.

    The first column is drawn from the stationary distribution ``N(0, sd² / (1 − rho²))``.
    """
    n, t = shape
    eta = rng.normal(0.0, sd, size=(n, t))
    out = np.empty((n, t))
    out[:, 0] = eta[:, 0] / math.sqrt(1.0 - rho * rho)
    for j in range(1, t):
        out[:, j] = rho * out[:, j - 1] + eta[:, j]
    return out


def logistic(x: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(−x))``."""
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def clipped_normal(rng: np.random.Generator, size: int, bound: float = 2.5) -> np.ndarray:
    """Draw standard normals clipped to ``[−bound, bound]`` (keeps positive quantities positive)."""
    return np.clip(rng.standard_normal(size), -bound, bound)
