"""Regenerate the figures of docs/report-figures.md from the example data.

Run from the repository root: ``.venv/bin/python scripts/make_report_figures.py``. The
figures are deterministic (seeded example data; files without creation dates) and written
to ``docs/figures/`` as PNG (the SVG of a map is ~1.4 MB). The numbers quoted on the page
are printed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agglomera import datasets
from agglomera.report.figures import lq_paths, save_figure
from agglomera.report.fonts import font_status
from agglomera.report.maps import bubble_map, choropleth

OUT = Path(__file__).resolve().parents[1] / "docs" / "figures"
FOCUS = ["110100", "310100", "440300", "510100"]  # Beijing, Shanghai, Shenzhen, Chengdu


def main() -> None:
    example = datasets.innovative_city(scope="major", seed=0)
    frame = example.panel.to_frame()
    last = frame[frame["year"] == 2019]
    lq = last.set_index("adcode")["talent_lq"]

    written = []
    fig = choropleth(
        lq,
        classes=5,
        title="High-tech talent LQ, 2019 (example data)",
        legend_label="talent LQ (quintiles)",
    )
    written += save_figure(fig, OUT / "report_talent_lq_map", formats=("png",), dpi=120)

    fig = bubble_map(
        last,
        sizes="emp_total",
        colors="talent_lq",
        labels="name_cn",
        title="人才区位熵与城镇单位就业，2019（示例数据）",
        legend_label="人才区位熵",
        size_label="就业（万人）",
        language="zh",
    )
    written += save_figure(fig, OUT / "report_talent_lq_bubbles", formats=("png",), dpi=120)

    fig = lq_paths(
        frame,
        unit="adcode",
        time="year",
        value="talent_lq",
        label="name_en",
        highlight=FOCUS,
        title="High-tech talent LQ, 2003–2019 (example data)",
    )
    written += save_figure(fig, OUT / "report_talent_lq_paths", formats=("png",), dpi=120)

    breaks = np.quantile(lq.to_numpy(), np.linspace(0, 1, 6))
    print(f"{len(lq)} cities; quintile breaks: {np.round(breaks, 3).tolist()}")
    names = last.set_index("adcode")["name_en"]
    for code in FOCUS:
        print(f"  {code} {names[code]}: LQ 2019 = {lq[code]:.3f}")
    print(f"font: {font_status()}")
    for path in written:
        print(f"wrote {path.relative_to(OUT.parents[1])} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
