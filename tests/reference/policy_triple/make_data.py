"""Write ddd.csv: simulated city x sector x year data with a known staggered DDD effect.

Run from the repository root: .venv/bin/python tests/reference/policy_triple/make_data.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate(seed: int = 11, n: int = 60, t_len: int = 8) -> pd.DataFrame:
    """City x {high, other} x year; DDD effect 0.5 + 0.1 * (t - g) on the high-tech sector.

    City-wide shocks (including a city-wide policy effect of 0.3), city-specific trends and
    sector-specific common trends are absorbed by the fixed effects.
    """
    rng = np.random.default_rng(seed)
    cohorts = rng.choice([0, 4, 6], size=n, p=[0.4, 0.3, 0.3])
    city_trend = rng.normal(0, 0.1, n)
    rows = []
    for i in range(n):
        for s in ("high", "other"):
            level = rng.normal()
            for t in range(1, t_len + 1):
                d = cohorts[i] > 0 and t >= cohorts[i]
                y = level + city_trend[i] * t + (0.2 * t if s == "high" else 0.0)
                y += 0.3 * d + rng.normal(0, 0.3)
                if d and s == "high":
                    y += 0.5 + 0.1 * (t - cohorts[i])
                rows.append(
                    (
                        f"c{i:02d}",
                        2010 + t,
                        s,
                        round(y, 6),
                        int(2010 + cohorts[i]) if cohorts[i] else 0,
                    )
                )
    return pd.DataFrame(rows, columns=["city", "year", "sector", "y", "cohort"])


if __name__ == "__main__":
    simulate().to_csv("tests/reference/policy_triple/ddd.csv", index=False)
