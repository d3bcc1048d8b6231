from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agglomera import Panel, datasets


@pytest.fixture(scope="session")
def bay() -> Panel:
    return datasets.zhejiang_bay(seed=0).panel


@pytest.fixture(scope="session")
def cities() -> Panel:
    return datasets.innovative_city(seed=0).panel


@pytest.fixture(scope="session")
def cities_holes(cities: Panel) -> Panel:
    """The innovative-city panel with a few values knocked out (deterministic)."""
    frame = cities.to_frame()
    rng = np.random.default_rng(1)
    for col in ("talent_lq", "rd_exp", "grp_pc"):
        rows = rng.choice(len(frame), size=12, replace=False)
        frame.loc[rows, col] = np.nan
    return Panel(frame, unit="adcode", time="year", labels=("name_en",))


def frame_of(panel: Panel) -> pd.DataFrame:
    return panel.to_frame()
