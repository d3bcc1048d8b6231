"""Regenerate the numbers and figures of docs/spatial.md from the example data.

Run from the repository root: ``.venv/bin/python scripts/make_spatial_figures.py``. Every
number is deterministic (seeded example data and permutations). The figures are written
to ``docs/figures/`` and the tables of the page are printed as Markdown.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from agglomera import datasets
from agglomera.spatial import weights
from agglomera.spatial.autocorrelation import bivariate_moran, geary_by_year, lisa, moran_by_year
from agglomera.spatial.figures import hotspot_map, lisa_map, moran_scatter
from agglomera.spatial.hotspots import getis_ord

OUT = Path(__file__).resolve().parents[1] / "docs" / "figures"
VAR = "talent_lq"
YEAR = 2019


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    panel = datasets.innovative_city("prefecture", seed=0).panel
    units = list(panel.units)
    w_queen = weights.contiguity(units=units)
    print("queen:", w_queen.meta["note"])

    moran = moran_by_year(panel, VAR, w_queen, permutations=999, seed=1)
    geary = geary_by_year(panel, VAR, w_queen, permutations=999, seed=1)
    table = moran.merge(geary[["year", "C"]], on="year")
    print(
        table[["year", "I", "EI", "z", "p_norm", "p_sim", "C", "n"]].to_markdown(
            index=False, floatfmt=".4f"
        )
    )

    frame = panel.to_frame()
    gdp = frame.groupby("adcode")["grp_pc"].mean()
    candidates = {
        "queen contiguity (islands → nearest)": w_queen,
        "5 nearest neighbours": weights.knn(units, 5),
        "inverse distance, all pairs": weights.distance(units),
        "inverse distance ≤ 500 km": weights.distance(units, cutoff=500, islands="knn"),
        "nested W_d·diag(Ȳ/Ȳ̄), GRP per capita": weights.nested(units, gdp),
        "convex 0.5 W_d + 0.5 W_e": weights.nested(units, gdp, phi=0.5),
    }
    one = panel.subset(times=[YEAR])
    rows = []
    for name, w in candidates.items():
        m = moran_by_year(one, VAR, w, permutations=999, seed=1).iloc[0]
        rows.append({"weights": name, "I": m["I"], "z": m["z"], "p_sim": m["p_sim"]})
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".4f"))

    local = lisa(panel, VAR, w_queen, year=YEAR, permutations=999, seed=1)
    print(local["cluster"].value_counts().to_markdown())
    names = frame.drop_duplicates("adcode").set_index("adcode")["name_en"]
    hh = local.loc[local["cluster"] == "HH", "adcode"].map(names).tolist()
    print("HH:", ", ".join(hh))
    hot = getis_ord(panel, VAR, w_queen, year=YEAR, permutations=999, seed=1)
    print(hot["hotspot"].value_counts().to_markdown())
    bv = bivariate_moran(panel, VAR, "rd_exp", w_queen, year=YEAR, permutations=999, seed=1)
    print(bv.to_markdown(index=False, floatfmt=".4f"))

    moran_scatter(panel, VAR, w_queen, YEAR).savefig(OUT / "spatial_moran_scatter.png", dpi=120)
    lisa_map(local, context=True).savefig(OUT / "spatial_lisa_map.png", dpi=120)
    hotspot_map(hot).savefig(OUT / "spatial_hotspots.png", dpi=120)


if __name__ == "__main__":
    main()
