"""Benchmark: fixed-effects spatial panel ML and LeSage–Pace effect draws.

Task: a spatial Durbin model with unit and time fixed effects on a balanced panel of 300
cities × 20 years (seeded; row-standardised 5-nearest-neighbour weights on random
coordinates, which has complex eigenvalues), followed by 1000 draws of the direct /
indirect / total effects for their standard errors.

Tools, each in its **own subprocess** (peak resident memory ``VmHWM`` per tool):

* ``agglomera-sdm-twoway+effects`` — ``panel_model(..., model="sdm", effects="twoway")``
  then ``.effects(draws=1000, seed=0)`` (eigendecomposition of W once; draws vectorised);
* ``agglomera-sdm-unit`` — ``panel_model(..., model="sdm", effects="unit")``;
* ``spreg-lag-unit`` — pysal ``spreg.Panel_FE_Lag`` on the same data with ``[X, WX]`` as
  regressors (the same unit-FE SDM; spreg has no two-way ML model and no panel effects);
  its coefficients are compared with ``agglomera-sdm-unit`` (``max abs Δ``);
* ``loop-effects`` — the 1000 effect draws of the first tool written as a loop with one
  ``numpy.linalg.inv(I − ρW)`` per draw (what one writes without the eigen trick); its
  standard errors are compared with agglomera's (same draws, ``max abs Δ``).

Usage::

    python benchmarks/spatial.py                 # appends to docs/benchmarks.md
    python benchmarks/spatial.py --no-append
"""

from __future__ import annotations

import argparse
import json
import time

from _harness import append_doc, machine, peak_rss_mb, run_worker, utc_stamp

N_CITIES, N_YEARS, K_NN = 300, 20, 5
TOOLS = ("agglomera-sdm-twoway+effects", "agglomera-sdm-unit", "spreg-lag-unit", "loop-effects")


def make_data(seed: int = 0):  # type: ignore[no-untyped-def]
    """Simulate an SDM two-way FE panel and its weights matrix."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n, t = N_CITIES, N_YEARS
    pts = rng.uniform(size=(n, 2))
    dist = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    np.fill_diagonal(dist, np.inf)
    w = np.zeros((n, n))
    w[np.repeat(np.arange(n), K_NN), np.argsort(dist, axis=1)[:, :K_NN].ravel()] = 1.0 / K_NN
    x = rng.normal(size=(t, n, 2))
    beta, theta, rho = np.array([1.0, -0.5]), np.array([0.5, 0.3]), 0.4
    mu, alpha = rng.normal(size=n), rng.normal(size=t)
    sinv = np.linalg.inv(np.eye(n) - rho * w)
    y = np.stack(
        [
            sinv @ (x[s] @ beta + w @ x[s] @ theta + mu + alpha[s] + rng.normal(size=n))
            for s in range(t)
        ]
    )
    frame = pd.DataFrame(
        {
            "city": np.tile(np.arange(n), t),
            "year": np.repeat(np.arange(2000, 2000 + t), n),
            "y": y.ravel(),
            "x1": x[:, :, 0].ravel(),
            "x2": x[:, :, 1].ravel(),
        }
    )
    return frame, w


def worker(tool: str, draws: int) -> dict[str, object]:
    """Run one tool in this process and return its record."""
    import warnings

    warnings.filterwarnings("ignore")
    import numpy as np

    frame, w = make_data()
    extra: dict[str, object] = {}
    if tool.startswith("agglomera") or tool == "loop-effects":
        from agglomera import Panel
        from agglomera.spatial.panel_models import panel_model

        panel = Panel(frame, unit="city", time="year")
        if tool == "agglomera-sdm-unit":
            t0 = time.perf_counter()
            r = panel_model(panel, y="y", x=["x1", "x2"], w=w, model="sdm", effects="unit")
            seconds = time.perf_counter() - t0
            extra["coef"] = [*r.params.tolist(), r.rho]
        elif tool == "agglomera-sdm-twoway+effects":
            t0 = time.perf_counter()
            r = panel_model(panel, y="y", x=["x1", "x2"], w=w, model="sdm", effects="twoway")
            t_fit = time.perf_counter() - t0
            e = r.effects(draws=draws, seed=0)
            seconds = time.perf_counter() - t0
            extra.update(
                fit_seconds=t_fit,
                se=e[["direct_se", "indirect_se", "total_se"]].to_numpy().ravel().tolist(),
                method=e.attrs.get("method"),
            )
        else:  # loop-effects: same draws, one inverse per draw
            r = panel_model(panel, y="y", x=["x1", "x2"], w=w, model="sdm", effects="twoway")
            t0 = time.perf_counter()
            est = r.params.to_numpy()
            mean = np.r_[est, r.rho]
            chol = np.linalg.cholesky(r.cov.to_numpy())
            rng = np.random.default_rng(0)
            par = mean + rng.standard_normal((draws, mean.size)) @ chol.T
            n = w.shape[0]
            res = np.empty((draws, 3, 2))
            for i, p in enumerate(par):
                sinv = np.linalg.inv(np.eye(n) - p[-1] * w)
                for j in range(2):
                    s = sinv @ (p[j] * np.eye(n) + p[2 + j] * w)
                    d, tot = np.trace(s) / n, s.sum() / n
                    res[i, :, j] = d, tot - d, tot
            sd = res.std(axis=0, ddof=1)  # (3 effects, 2 variables)
            seconds = time.perf_counter() - t0
            extra["se"] = sd.T.ravel().tolist()
    elif tool == "spreg-lag-unit":
        import libpysal
        import spreg

        frame = frame.sort_values(["year", "city"])
        t, n = N_YEARS, N_CITIES
        x = frame[["x1", "x2"]].to_numpy().reshape(t, n, 2)
        wx = np.einsum("ij,tjk->tik", w, x).reshape(-1, 2)
        xx = np.column_stack([x.reshape(-1, 2), wx])
        wo = libpysal.weights.full2W(w)
        t0 = time.perf_counter()
        m = spreg.Panel_FE_Lag(frame[["y"]].to_numpy(), xx, wo)
        seconds = time.perf_counter() - t0
        extra["coef"] = m.betas.ravel().tolist()
    else:
        raise ValueError(tool)
    return {"tool": tool, "seconds": seconds, "peak_mb": peak_rss_mb(), **extra}


def run_tool(tool: str, draws: int, timeout: float) -> dict[str, object]:
    """Run one tool in a subprocess; never raise."""
    return run_worker(__file__, tool, [str(draws)], timeout)


MARKER = "<!-- spatial runs: appended by benchmarks/spatial.py -->"
DOC_INTRO = f"""## Spatial panel ML and effect draws (`benchmarks/spatial.py`)

Task: spatial Durbin model with unit and time fixed effects on a simulated balanced panel
of 300 cities × 20 years (row-standardised 5-nearest-neighbour W on random coordinates;
complex eigenvalues), then 1000 LeSage–Pace effect draws for the standard errors.

- **agglomera-sdm-twoway+effects**: `panel_model(model="sdm", effects="twoway")` +
  `.effects(draws=1000, seed=0)` (eigenvalues of W computed once; the draws are one
  vectorised array operation);
- **agglomera-sdm-unit** vs **spreg-lag-unit**: the same unit-FE SDM, in agglomera and in
  pysal `spreg.Panel_FE_Lag` with `[X, WX]` as regressors (spreg has neither two-way
  ML nor panel effects); "max abs Δ" compares the coefficients and ρ;
- **loop-effects**: the same 1000 draws with one `inv(I − ρW)` per draw; "max abs Δ"
  compares its effect SEs with agglomera's.

Each tool runs in its own subprocess (peak MB = its `VmHWM`, including Python and the
data). Target: ≤ 5 s for the SDM two-way fit plus 1000 draws on 2 cores.

{MARKER}
"""


def report(records: dict[str, dict[str, object]], args: argparse.Namespace) -> str:
    """Markdown section with the run's table."""
    import numpy as np

    stamp = utc_stamp()
    host = machine()
    lines = [
        f"### SDM two-way FE, {N_CITIES} cities × {N_YEARS} years, {args.draws} draws — {stamp}",
        "",
        f"Command: `python benchmarks/spatial.py --draws {args.draws}`; machine: {host}.",
        "",
        "| tool | seconds | peak MB | × agglomera | max abs Δ | note |",
        "|---|---:|---:|---:|---:|---|",
    ]
    pairs = {
        "agglomera-sdm-twoway+effects": ("agglomera-sdm-twoway+effects", None),
        "loop-effects": ("agglomera-sdm-twoway+effects", "se"),
        "agglomera-sdm-unit": ("agglomera-sdm-unit", None),
        "spreg-lag-unit": ("agglomera-sdm-unit", "coef"),
    }
    for tool, (base, key) in pairs.items():
        rec = records.get(tool)
        if rec is None:
            continue
        if rec.get("status") != "ok":
            lines.append(f"| {tool} | | | | | {rec.get('status')} |")
            continue
        b = records.get(base, {})
        ratio = (
            float(rec["seconds"]) / float(b["seconds"])  # type: ignore[arg-type]
            if b.get("status") == "ok"
            else float("nan")
        )
        delta = ""
        if key and b.get("status") == "ok":
            diff = np.abs(np.asarray(rec[key]) - np.asarray(b[key]))
            delta = f"{diff.max():.1e}"
        note = ""
        if tool == "agglomera-sdm-twoway+effects":
            note = f"fit {float(rec['fit_seconds']):.2f} s; {rec.get('method')}"  # type: ignore[arg-type]
        lines.append(
            f"| {tool} | {float(rec['seconds']):.2f} | {float(rec['peak_mb']):.0f} | "  # type: ignore[arg-type]
            f"{ratio:.1f}× | {delta} | {note} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run every tool, print and append the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--worker", nargs=2, metavar=("TOOL", "DRAWS"))
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    if args.worker:
        tool, draws = args.worker
        print(json.dumps(worker(tool, int(draws))), flush=True)
        return
    records = {}
    for tool in args.tools:
        records[tool] = run_tool(tool, args.draws, args.timeout)
        print(tool, records[tool], flush=True)
    text = report(records, args)
    print(text)
    if not args.no_append:
        append_doc(text, marker=MARKER, intro=DOC_INTRO)


if __name__ == "__main__":
    main()
