"""Benchmark: randomization inference (placebo draws), agglomera's fast paths vs loops.

Task: ``R`` timing-preserving placebo draws (``scheme="timing"``: the treated cities keep
being treated, their pilot years are permuted among them) on a balanced panel of 300
cities × 20 years (2000–2019; 90 pilots in six cohorts, 210 never treated; seeded), with
the static TWFE coefficient and the Callaway–Sant'Anna simple ATT (never-treated
controls, no covariates) as the statistics.

Tools, each in its **own subprocess** (peak resident memory ``VmHWM`` per tool):

* ``agglomera-twfe`` — ``policy.placebo(d, "y", estimator="twfe", draws=R,
  scheme="timing", seed=0)`` (matrix fast path; the timing includes the actual pyfixest
  fit and drawing the cohorts);
* ``pyfixest-loop`` — the same placebo cohorts, one ``pyfixest.feols("y ~ D | id + t")``
  re-fit per draw (what one writes without a fast path);
* ``pyfixest-ritest`` — ``feols(...).ritest("D", reps=R)`` (pyfixest 0.60's fast numba
  algorithm, JIT warmed up before timing). **Not the same test**: ritest re-samples
  ``D_it`` cell by cell (or constant within a cluster); it cannot keep the staggered
  structure, so it is shown as a speed reference only;
* ``agglomera-cs`` — ``policy.placebo(d, "y", estimator="cs", ...)`` (fast path);
* ``agglomera-cs-loop`` — ``policy.placebo(..., estimator="cs", fast_path=False)``,
  i.e. a loop of ``policy.estimate(estimator="cs")`` (the own vectorised CS core);
* ``csdid-loop`` — csdid ``ATTgt(...).fit().aggte("simple")`` per draw.

* ``agglomera-cs-reg`` / ``agglomera-cs-reg-loop`` — the same with one time-varying
  covariate ``x`` and ``method="reg"`` (outcome regression): fast path vs loop.

Every timed call is preceded by one untimed warm-up fit (pyfixest's and numba's
first-call overhead is ~2 s). Loops are run on the first ``--loop-draws`` draws (default
100; csdid ``--csdid-draws``, default 20) and **extrapolated linearly** to ``R`` draws;
the table says so. The placebo
estimates of every loop are compared with agglomera's fast-path draws for the same
assignments (``max |Δ|``). Ratios are "per ``R`` draws" times over agglomera's fast path.

Usage::

    python benchmarks/placebo.py                   # R = 1000, appends to docs/benchmarks.md
    python benchmarks/placebo.py --draws 200 --no-append
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _harness import append_doc, machine, peak_rss_mb, run_worker, utc_stamp

ROOT = Path(__file__).resolve().parents[1]
N_CITIES, YEARS = 300, tuple(range(2000, 2020))
COHORTS = {2008: 5, 2010: 35, 2011: 10, 2012: 15, 2013: 15, 2018: 10}
TOOLS = (
    "agglomera-twfe",
    "pyfixest-loop",
    "pyfixest-ritest",
    "agglomera-cs",
    "agglomera-cs-loop",
    "csdid-loop",
    "agglomera-cs-reg",
    "agglomera-cs-reg-loop",
)


def make_frame(seed: int = 0):
    """Balanced 300 × 20 city panel with staggered pilots and a growing effect."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    g = np.zeros(N_CITIES, dtype=np.int64)
    pilots = rng.choice(N_CITIES, size=sum(COHORTS.values()), replace=False)
    g[pilots] = np.repeat(list(COHORTS), list(COHORTS.values()))
    years = np.asarray(YEARS)
    unit = np.repeat(np.arange(N_CITIES), years.size)
    year = np.tile(years, N_CITIES)
    gi = g[unit]
    exposure = np.where((gi > 0) & (year >= gi), year - gi + 1, 0)
    y = (
        rng.normal(size=N_CITIES)[unit]
        + 0.05 * (year - years[0])
        + 0.05 * exposure
        + rng.normal(scale=0.5, size=unit.size)
    )
    x = 0.5 * y + rng.normal(size=unit.size)  # a covariate (drawn last: y unchanged)
    return pd.DataFrame({"id": unit + 1, "t": year, "g": gi, "y": y, "x": x})


def worker(tool: str, draws: int, loop_draws: int) -> dict[str, object]:
    """Run one tool in this process and return its timing record."""
    import warnings

    warnings.filterwarnings("ignore")
    import numpy as np

    from agglomera import Panel, policy
    from agglomera.policy.placebo import draw_cohorts, placebo

    df = make_frame()
    d = policy.design(Panel(df, unit="id", time="t"), cohort="g")
    cohorts = draw_cohorts(d.cohorts, draws=draws, scheme="timing", seed=0)
    unit_pos = d.cohorts.index.get_indexer(df["id"])
    ran = draws
    values: np.ndarray
    if tool in ("agglomera-twfe", "agglomera-cs"):
        est = "twfe" if tool == "agglomera-twfe" else "cs"
        policy.estimate(d, "y", estimator=est)  # warm-up (pyfixest / numba first call)
        t0 = time.perf_counter()
        res = placebo(d, "y", estimator=est, draws=draws, scheme="timing", seed=0)
        seconds = time.perf_counter() - t0
        values = res.draws
        extra = {"p_value": res.p_value, "path": res.meta["path"]}
    elif tool == "pyfixest-loop":
        import pyfixest as pf

        ran = min(loop_draws, draws)
        frame = df[["id", "t", "y"]].copy()
        frame["D"] = ((df["g"] > 0) & (df["t"] >= df["g"])).astype(float)
        pf.feols("y ~ D | id + t", data=frame, vcov={"CRV1": "id"})  # warm-up
        t0 = time.perf_counter()
        out = []
        for r in range(ran):
            g_row = cohorts[r][unit_pos]
            frame["D"] = ((g_row > 0) & (frame["t"].to_numpy() >= g_row)).astype(float)
            fit = pf.feols("y ~ D | id + t", data=frame, vcov={"CRV1": "id"})
            out.append(float(fit.coef()["D"]))
        seconds = time.perf_counter() - t0
        values = np.asarray(out)
        extra = {}
    elif tool == "pyfixest-ritest":
        import pyfixest as pf

        frame = df.assign(D=((df["g"] > 0) & (df["t"] >= df["g"])).astype(float))
        # no spaces: pyfixest 0.60's ritest splits the fixed effects on "+" verbatim
        fit = pf.feols("y~D|id+t", data=frame)
        fit.ritest("D", reps=10, rng=np.random.default_rng(1))  # numba JIT warm-up
        t0 = time.perf_counter()
        fit.ritest("D", reps=draws, rng=np.random.default_rng(0), store_ritest_statistics=True)
        seconds = time.perf_counter() - t0
        values = np.asarray([])
        extra = {"note": "cell-level resampling of D (different test)"}
    elif tool in ("agglomera-cs-reg", "agglomera-cs-reg-loop"):
        loop = tool.endswith("loop")
        ran = min(loop_draws, draws) if loop else draws
        kw = {"estimator": "cs", "method": "reg", "controls": ["x"]}
        policy.estimate(d, "y", **kw)  # warm-up
        t0 = time.perf_counter()
        res = placebo(
            d, "y", draws=ran, scheme="timing", seed=0, fast_path=False if loop else None, **kw
        )
        seconds = time.perf_counter() - t0
        values = res.draws
        extra = {"path": res.meta["path"]}
    elif tool == "agglomera-cs-loop":
        ran = min(loop_draws, draws)
        policy.estimate(d, "y", estimator="cs")  # warm-up
        t0 = time.perf_counter()
        res = placebo(d, "y", estimator="cs", draws=ran, scheme="timing", seed=0, fast_path=False)
        seconds = time.perf_counter() - t0
        values = res.draws
        extra = {}
    elif tool == "csdid-loop":
        from csdid.att_gt import ATTgt

        ran = min(loop_draws, draws)
        frame = df[["id", "t", "y"]].copy()
        t0 = time.perf_counter()
        out = []
        for r in range(ran):
            frame["g"] = cohorts[r][unit_pos]
            fit = ATTgt(
                yname="y",
                tname="t",
                idname="id",
                gname="g",
                data=frame,
                control_group=["nevertreated"],
            ).fit(est_method="reg", bstrap=False)
            agg = fit.aggte(typec="simple", bstrap=False)
            out.append(float(agg.atte["overall_att"]))
        seconds = time.perf_counter() - t0
        values = np.asarray(out)
        extra = {}
    else:
        raise ValueError(tool)
    return {
        "tool": tool,
        "ran": ran,
        "seconds": seconds,
        "per_draws": seconds * draws / ran,
        "peak_mb": peak_rss_mb(),
        "values": [float(v) for v in values[: min(ran, 100)]],
        **extra,
    }


def run_tool(tool: str, draws: int, loop_draws: int, timeout: float) -> dict[str, object]:
    """Run one tool in a subprocess; never raise."""
    return run_worker(__file__, tool, [str(draws), str(loop_draws)], timeout)


def main() -> None:
    """Parse arguments, run every tool, print and append the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--worker", nargs=3, metavar=("TOOL", "DRAWS", "LOOP_DRAWS"))
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--loop-draws", type=int, default=100)
    ap.add_argument("--csdid-draws", type=int, default=20)
    ap.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    if args.worker:
        tool, draws, loop_draws = args.worker
        print(json.dumps(worker(tool, int(draws), int(loop_draws))), flush=True)
        return

    records = {}
    for tool in args.tools:
        loops = args.csdid_draws if tool == "csdid-loop" else args.loop_draws
        records[tool] = run_tool(tool, args.draws, loops, args.timeout)
        print(tool, {k: v for k, v in records[tool].items() if k != "values"}, flush=True)
    text = report(records, args)
    print(text)
    if not args.no_append:
        append_doc(text, marker=MARKER, intro=DOC_INTRO)


MARKER = "<!-- placebo runs: appended by benchmarks/placebo.py -->"
DOC_INTRO = f"""## Randomization inference: placebo draws (`benchmarks/placebo.py`)

Task: 1000 timing-preserving placebo draws (`scheme="timing"`: the 90 pilot cities stay
treated, their pilot years are permuted among them) on a balanced panel of 300 cities ×
20 years (six cohorts, 210 never-treated cities; seeded), re-estimating the static TWFE
coefficient and the Callaway–Sant'Anna simple ATT (never-treated controls, no covariates)
on every draw.

- **agglomera-twfe / agglomera-cs**: `policy.placebo(d, "y", estimator=..., draws=1000,
  scheme="timing", seed=0)` — the matrix fast paths (the timing includes the actual
  estimation and drawing the cohorts);
- **pyfixest-loop**: one `pyfixest.feols("y ~ D | id + t")` re-fit per draw on the same
  placebo cohorts;
- **pyfixest-ritest**: `feols(...).ritest("D", reps=1000)` (pyfixest 0.60, fast numba
  algorithm). It re-samples `D_it` cell by cell and cannot keep the staggered structure —
  **a different test**, shown as a speed reference only;
- **agglomera-cs-loop**: `placebo(..., estimator="cs", fast_path=False)`, a loop over
  `policy.estimate(estimator="cs")` (own vectorised CS core);
- **csdid-loop**: csdid `ATTgt(...).fit(est_method="reg").aggte("simple")` per draw;
- **agglomera-cs-reg / -loop**: CS with one time-varying covariate and `method="reg"`
  (outcome regression), fast path vs the loop over `estimate`.

Each tool runs in its own subprocess (peak MB = its `VmHWM`, including Python, pandas and
the data); every timed call follows one untimed warm-up fit. Loops run on the first 100
draws (csdid: 20) and are **extrapolated linearly** to 1000 draws (marked). "max abs Δ"
compares a loop's placebo estimates with the fast path's for the same assignments.
Targets: ≥ 50× faster than looping pyfixest (TWFE) and than looping the CS
engine, indicatively ≤ 2 s (TWFE) and ≤ 5 s (CS) on 2 cores.

{MARKER}
"""


def report(records: dict[str, dict[str, object]], args: argparse.Namespace) -> str:
    """Markdown section with the run's table."""
    import numpy as np
    import pyfixest

    stamp = utc_stamp()
    host = machine(f"pyfixest {pyfixest.__version__}")
    lines = [
        f"### {args.draws} timing-preserving draws, {N_CITIES} cities × {len(YEARS)} years "
        f"— {stamp}",
        "",
        f"Command: `python benchmarks/placebo.py --draws {args.draws} --loop-draws "
        f"{args.loop_draws} --csdid-draws {args.csdid_draws}`; machine: {host}.",
        "",
        f"| statistic | tool | draws run | seconds | seconds per {args.draws} draws | peak MB "
        "| × agglomera fast | max abs Δ vs fast draws |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    groups = {
        "TWFE β": ("agglomera-twfe", ("agglomera-twfe", "pyfixest-loop", "pyfixest-ritest")),
        "CS simple ATT": ("agglomera-cs", ("agglomera-cs", "agglomera-cs-loop", "csdid-loop")),
        "CS reg, x": (
            "agglomera-cs-reg",
            ("agglomera-cs-reg", "agglomera-cs-reg-loop"),
        ),
    }
    for stat, (base_tool, tools) in groups.items():
        base = records.get(base_tool, {})
        base_vals = np.asarray(base.get("values", []), dtype=float)
        for tool in tools:
            rec = records.get(tool)
            if rec is None:
                continue
            if rec.get("status") != "ok":
                lines.append(f"| {stat} | {tool} | | | | | | {rec.get('status')} |")
                continue
            per = float(rec["per_draws"])  # type: ignore[arg-type]
            ratio = per / float(base["per_draws"]) if base.get("status") == "ok" else float("nan")  # type: ignore[arg-type]
            vals = np.asarray(rec.get("values", []), dtype=float)
            k = min(vals.size, base_vals.size)
            delta = (
                f"{np.max(np.abs(vals[:k] - base_vals[:k])):.1e}"
                if k and tool != base_tool
                else ("—" if tool != base_tool else "")
            )
            extrapolated = " (extrapolated)" if int(rec["ran"]) < args.draws else ""  # type: ignore[call-overload]
            lines.append(
                f"| {stat} | {tool} | {rec['ran']} | {float(rec['seconds']):.2f} | "  # type: ignore[arg-type]
                f"{per:.2f}{extrapolated} | {float(rec['peak_mb']):.0f} | {ratio:.0f}× | {delta} |"  # type: ignore[arg-type]
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
