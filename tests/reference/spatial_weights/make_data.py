"""Write the input files of make_reference.R (run from the repository root).

- ``columbus.csv``: libpysal's bundled Columbus data (Anselin 1988): POLYID, CRIME, INC,
  HOVAL and the polygons as WKT (read from libpysal/examples/columbus/columbus.shp).
- ``cities_case.csv``: the 293 prefecture-level units of
  ``agglomera.datasets.innovative_city("prefecture", seed=0)`` in 2019: adcode, lon, lat
  (from ``agglomera.reference.cities()``) and the simulated ``talent_lq``.
- ``zhejiang_boundaries.csv``: the shipped census polygons (WKT) of Zhejiang's 11
  prefecture-level cities from ``agglomera.reference.boundaries()``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from libpysal import examples

from agglomera import datasets, reference

HERE = Path(__file__).resolve().parent

col = gpd.read_file(examples.get_path("columbus.shp"))
col = col.assign(geometry=col.geometry.to_wkt())[["POLYID", "CRIME", "INC", "HOVAL", "geometry"]]
col.to_csv(HERE / "columbus.csv", index=False)

panel = datasets.innovative_city("prefecture", seed=0).panel.to_frame()
y2019 = panel.loc[panel["year"] == 2019, ["adcode", "talent_lq"]]
coords = reference.cities()[["adcode", "lon", "lat"]]
case = y2019.merge(coords, on="adcode", how="left")[["adcode", "lon", "lat", "talent_lq"]]
case.sort_values("adcode").to_csv(HERE / "cities_case.csv", index=False, float_format="%.17g")

b = reference.boundaries()
b[b["adcode"].str.startswith("33")].to_csv(HERE / "zhejiang_boundaries.csv", index=False)
