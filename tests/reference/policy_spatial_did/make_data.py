"""Write panel.csv and coords.csv for the spatial-DID reference (R) computation.

Data: agglomera.datasets.innovative_city("prefecture", seed=0, spillover=0.04) (simulated
outcome on real adcodes, coordinates and pilot years), restricted to the units of
policy.design(panel, policy="innovative_city"). Run from the repository root:
.venv/bin/python tests/reference/policy_spatial_did/make_data.py
"""

from __future__ import annotations

import warnings

from agglomera import reference
from agglomera.datasets.innovative_city import innovative_city
from agglomera.policy.design import design

if __name__ == "__main__":
    ex = innovative_city("prefecture", seed=0, spillover=0.04)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        d = design(ex.panel, policy="innovative_city")
    frame = d.panel.to_frame()[["adcode", "year", "talent_lq"]].copy()
    frame["cohort"] = d.cohorts.reindex(frame["adcode"]).to_numpy()
    frame["talent_lq"] = frame["talent_lq"].round(10)
    frame.to_csv("tests/reference/policy_spatial_did/panel.csv", index=False)
    cities = reference.cities()
    cities["adcode"] = cities["adcode"].astype(str)
    xy = cities.drop_duplicates("adcode").set_index("adcode").loc[list(d.units), ["lon", "lat"]]
    xy.to_csv("tests/reference/policy_spatial_did/coords.csv")
