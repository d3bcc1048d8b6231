"""Benchmark: staggered DID estimators at scale, agglomera vs Python peers.

Synthetic balanced panels of ``N`` units × 10 periods (one Parquet file per size, written
once with a seeded generator to ``benchmarks/out/did_panel_<N>.parquet``): ``id``, ``t``
(1..10), ``g`` (first treated period 4, 6 or 8; 0 = never treated; cohort membership
depends on ``x1``), two time-invariant covariates ``x1``, ``x2``, and an outcome ``y`` with
unit and period effects, an ``x1``-specific trend (parallel trends hold conditionally on
``x1`` only) and effects that differ across cohorts and grow with exposure.

Every (estimator, tool) pair runs in its **own subprocess**, which reads the Parquet file
(excluded from the timings), builds what the tool needs (``setup``: agglomera's ``Panel``
and ``design``; peers' column preparation) and then times only the estimation call. The
parent records the process wall time, enforces a timeout and a memory cap (it polls the
worker's resident memory and kills it above the cap), and records ``timeout`` / ``failed``
instead of stopping. The worker reports its own peak resident memory (``VmHWM``), which
includes the loaded data, and the memory of the estimation call alone: the peak during the
call (``VmHWM`` reset just before it through ``/proc/self/clear_refs``) minus the resident
memory when it starts (the loaded data and, for agglomera, the design).

Estimators (agglomera call → peers):

* ``cs`` — ``estimate(d, "y", estimator="cs", method="dr", controls=["x1", "x2"])``
  (analytic SE) → diff-diff ``CallawaySantAnna``, moderndid ``att_gt`` + ``aggte``,
  csdid ``ATTgt`` (all doubly robust with ``x1 + x2``, never-treated controls);
* ``cs-boot`` — the same with 999 multiplier-bootstrap draws (``bootstrap=999, seed=1``);
* ``bjs`` — imputation → diff-diff ``ImputationDiD``, pyfixest ``did2s`` (dense; capped);
* ``sa`` — Sun–Abraham (agglomera's cell-mean path on this balanced panel without
  covariates, ``meta["path"] == "cell_means"``) → diff-diff ``SunAbraham``, pyfixest
  ``event_study(estimator="saturated")``; a run of ``--estimators sa`` alone is appended
  to the "Sun–Abraham own core" subsection of the results page;
* ``twfe`` — static TWFE → pyfixest ``feols("y ~ D | id + t")``.

The simple ATT of every peer is printed next to agglomera's (``att`` and ``|Δ att|``
columns), so disagreements are visible in the same table.

Usage::

    python benchmarks/did_scale.py --sizes 10000              # one size, all tools
    python benchmarks/did_scale.py --sizes 10000 100000
    python benchmarks/did_scale.py --sizes 1000000 --estimators cs bjs --tools agglomera diff-diff
    python benchmarks/did_scale.py --sizes 10000 --no-append  # print only

Options: ``--sizes``, ``--estimators``, ``--tools``, ``--timeout`` (seconds per worker),
``--mem-cap-gb`` (per worker), ``--no-append``. Caps on peers that cannot scale
(pyfixest ``did2s`` ≤ 5 k units — it runs on the first 5 k units of the file; csdid ≤ 100 k
units) are applied automatically and shown in the notes; slow peers are otherwise stopped
by the timeout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

from _harness import append_doc, peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
PERIODS = 10
COHORTS = (4, 6, 8)
CONTROLS = ("x1", "x2")

#: estimator -> tools, in table order (agglomera first).
PLAN: dict[str, tuple[str, ...]] = {
    "cs": ("agglomera", "diff-diff", "moderndid", "csdid"),
    "cs-boot": ("agglomera", "diff-diff", "moderndid", "csdid"),
    "bjs": ("agglomera", "diff-diff", "pyfixest-did2s"),
    "sa": ("agglomera", "diff-diff", "pyfixest"),
    "twfe": ("agglomera", "pyfixest"),
}
#: (estimator, tool) -> largest number of units it is run on (beyond: "skipped (cap)").
CAPS: dict[tuple[str, str], int] = {
    ("bjs", "pyfixest-did2s"): 5_000,
    ("cs", "csdid"): 100_000,
    ("cs-boot", "csdid"): 100_000,
}
#: (estimator, tool) -> run on a subsample of the first ``cap`` units instead of skipping.
SUBSAMPLE = {("bjs", "pyfixest-did2s")}


# --------------------------------------------------------------------------- data


def make_panel(n_units: int, *, seed: int = 0):
    """Return a balanced staggered-adoption panel of ``n_units`` × 10 periods."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n_units)
    x2 = rng.binomial(1, 0.4, size=n_units).astype(np.float64)
    # cohort shares depend on x1 (selection on observables): never, 4, 6, 8
    logits = np.column_stack([np.zeros(n_units), 0.5 * x1 - 0.3, 0.3 * x1 - 0.4, -0.2 * x1 - 0.5])
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    u = rng.random(n_units)[:, None]
    choice = (u > np.cumsum(p, axis=1)).sum(axis=1)
    g = np.array([0, *COHORTS])[choice]
    alpha = 0.5 * x1 + 0.3 * x2 + rng.normal(size=n_units)

    t = np.tile(np.arange(1, PERIODS + 1), n_units)
    rep = np.repeat(np.arange(n_units), PERIODS)
    gi = g[rep]
    exposure = np.where((gi > 0) & (t >= gi), t - gi, -1)
    cohort_scale = np.select([gi == 4, gi == 6, gi == 8], [1.5, 1.0, 0.5], 0.0)
    effect = np.where(exposure >= 0, cohort_scale * (1.0 + 0.25 * exposure), 0.0)
    y = (
        alpha[rep]
        + 0.2 * t
        + 0.1 * x1[rep] * t  # covariate-specific trend
        + effect
        + rng.normal(size=t.size)
    )
    return pd.DataFrame(
        {
            "id": rep.astype(np.int64) + 1,
            "t": t.astype(np.int64),
            "g": gi.astype(np.int64),
            "y": y,
            "x1": x1[rep],
            "x2": x2[rep],
        }
    )


def ensure_data(n_units: int) -> tuple[Path, str]:
    """Write the panel of ``n_units`` once to ``benchmarks/out``; return the path and how."""
    path = OUT / f"did_panel_{n_units}.parquet"
    if path.exists():
        return path, "reused"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.parquet")
    make_panel(n_units, seed=0).to_parquet(tmp, index=False)
    tmp.rename(path)
    return path, "written (seed 0)"


# --------------------------------------------------------------------------- workers


def _agglomera(estimator: str, df):
    """Return (setup, run) callables for agglomera."""
    from agglomera.data import Panel
    from agglomera.policy import design, estimate

    state = {}

    def setup() -> None:
        state["d"] = design(Panel(df, unit="id", time="t"), cohort="g")

    def run() -> float:
        d = state["d"]
        if estimator == "cs":
            r = estimate(d, "y", estimator="cs", method="dr", controls=list(CONTROLS))
        elif estimator == "cs-boot":
            r = estimate(
                d,
                "y",
                estimator="cs",
                method="dr",
                controls=list(CONTROLS),
                bootstrap=999,
                seed=1,
            )
        else:
            r = estimate(d, "y", estimator=estimator)
        return float(r.att)

    return setup, run


def _diff_diff(estimator: str, df):
    import diff_diff as dd

    def run() -> float:
        common = {"outcome": "y", "unit": "id", "time": "t", "first_treat": "g"}
        if estimator in ("cs", "cs-boot"):
            boot = 999 if estimator == "cs-boot" else 0
            model = dd.CallawaySantAnna(estimation_method="dr", n_bootstrap=boot, seed=1)
            res = model.fit(df, covariates=list(CONTROLS), **common)
        elif estimator == "bjs":
            res = dd.ImputationDiD().fit(df, **common)
        elif estimator == "sa":
            res = dd.SunAbraham().fit(df, **common)
        else:
            raise ValueError(estimator)
        return float(res.overall_att)

    return (lambda: None), run


def _moderndid(estimator: str, df):
    import moderndid as md

    def run() -> float:
        boot = estimator == "cs-boot"
        mp = md.att_gt(
            df,
            yname="y",
            tname="t",
            idname="id",
            gname="g",
            xformla="~x1+x2",
            est_method="dr",
            boot=boot,
            biters=999,
            random_state=1,
        )
        return float(md.aggte(mp, type="simple").overall_att)

    return (lambda: None), run


def _csdid(estimator: str, df):
    from csdid.att_gt import ATTgt

    def run() -> float:
        boot = estimator == "cs-boot"
        model = ATTgt(
            yname="y",
            tname="t",
            idname="id",
            gname="g",
            data=df,
            xformla="y~x1+x2",
            control_group=["nevertreated"],
            biters=999,
        )
        fit = model.fit(est_method="dr", bstrap=boot)
        agg = fit.aggte(typec="simple", bstrap=boot)
        return float(agg.atte["overall_att"])

    return (lambda: None), run


def _pyfixest(estimator: str, df):
    import numpy as np
    import pyfixest as pf

    state = {}

    def setup() -> None:
        if estimator in ("twfe", "bjs"):
            df["D"] = ((df["g"] > 0) & (df["t"] >= df["g"])).astype(np.int64)

    def run() -> float:
        if estimator == "twfe":
            fit = pf.feols("y ~ D | id + t", data=df, vcov={"CRV1": "id"})
            return float(fit.coef()["D"])
        if estimator == "bjs":
            fit = pf.did2s(
                df,
                yname="y",
                first_stage="~ 0 | id + t",
                second_stage="~ D",
                treatment="D",
                cluster="id",
            )
            return float(fit.coef()["D"])
        if estimator == "sa":
            fit = pf.event_study(
                df, yname="y", idname="id", tname="t", gname="g", estimator="saturated"
            )
            state["fit"] = fit
            agg = fit.aggregate(weighting="shares")
            est = agg["Estimate"] if "Estimate" in agg else agg.iloc[:, 0]
            rel = np.array([_rel_time(i) for i in agg.index])
            post = rel >= 0
            # simple ATT: post cells weighted by their treated observations (as R did's)
            w = _post_weights(df, rel[post])
            return float(np.sum(np.asarray(est)[post] * w))
        raise ValueError(estimator)

    return setup, run


SA_CORE_MARKER = "<!-- did_scale sa-core runs -->"


def _doc_marker(estimators: list[str]) -> str:
    """Where a run goes: SA-only runs into the "Sun–Abraham own core" subsection."""
    from _harness import DOC

    if estimators == ["sa"] and DOC.exists() and SA_CORE_MARKER in DOC.read_text("utf-8"):
        return SA_CORE_MARKER
    return "<!-- did_scale runs: appended by benchmarks/did_scale.py -->"


def _rel_time(label: object) -> int:
    """Relative period from a pyfixest aggregate index label like ``"[-3]"`` or ``-3``."""
    import re

    m = re.search(r"-?\d+", str(label))
    return int(m.group()) if m else 10**6


def _post_weights(df, rels):
    """Treated-observation shares of each post-treatment relative period."""
    import numpy as np

    treated = df[(df["g"] > 0) & (df["t"] >= df["g"])]
    counts = (treated["t"] - treated["g"]).value_counts()
    w = np.array([counts.get(int(r), 0) for r in rels], dtype=float)
    return w / w.sum()


TOOL_FACTORIES = {
    "agglomera": _agglomera,
    "diff-diff": _diff_diff,
    "moderndid": _moderndid,
    "csdid": _csdid,
    "pyfixest": _pyfixest,
    "pyfixest-did2s": _pyfixest,
}


def worker(estimator: str, tool: str, path: str, max_units: int | None) -> None:
    """Run one (estimator, tool) in this process; print timings and the estimate as JSON."""
    import warnings

    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    import pandas as pd

    df = pd.read_parquet(path)
    if max_units is not None:
        df = df[df["id"] <= max_units].reset_index(drop=True)
    setup, run = TOOL_FACTORIES[tool](estimator, df)  # imports the tool
    t1 = time.perf_counter()
    setup()
    setup_peak = peak_rss_mb()
    inputs_mb = _rss_mb(os.getpid())
    reset = _reset_peak()
    t2 = time.perf_counter()
    att = run()
    t3 = time.perf_counter()
    run_peak = peak_rss_mb()
    print(
        json.dumps(
            {
                "load_seconds": t1 - t0,
                "setup_seconds": t2 - t1,
                "seconds": t3 - t2,
                "att": att,
                "peak_mb": max(setup_peak, run_peak),
                "estimate_mb": run_peak - inputs_mb if reset else None,
                "units": int(df["id"].nunique()),
            }
        ),
        flush=True,
    )


def _reset_peak() -> bool:
    """Reset this process's ``VmHWM`` (Linux ``clear_refs``); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _rss_mb(pid: int) -> float:
    """Return the current resident memory of process ``pid`` in MB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_worker(
    estimator: str,
    tool: str,
    path: Path,
    *,
    timeout: float,
    mem_cap_mb: float,
    max_units: int | None = None,
) -> dict[str, object]:
    """Run one worker subprocess under a timeout and memory cap; never raise."""
    cmd = [sys.executable, __file__, "--worker", estimator, tool, str(path)]
    if max_units is not None:
        cmd.append(str(max_units))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    status, seen_mb = "ok", 0.0
    while proc.poll() is None:
        seen_mb = max(seen_mb, _rss_mb(proc.pid))
        if time.perf_counter() - t0 > timeout:
            status = "timeout"
        elif seen_mb > mem_cap_mb:
            status = "failed (memory cap)"
        if status != "ok":
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.2)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    result: dict[str, object] = {"process_seconds": wall, "status": status}
    if status == "ok" and proc.returncode != 0:
        last = (stderr.strip().splitlines() or ["?"])[-1]
        killed = proc.returncode < 0
        result["status"] = "failed (killed, OOM?)" if killed else f"failed: {last[:120]}"
    if status == "ok" and proc.returncode == 0:
        result.update(json.loads(stdout.strip().splitlines()[-1]))
    elif status != "ok":
        result["peak_mb"] = seen_mb
    return result


# --------------------------------------------------------------------------- report


def _fmt(x: object, spec: str) -> str:
    return "" if not isinstance(x, (int, float)) or math.isnan(x) else format(x, spec)


def markdown_rows(n_units: int, estimator: str, results: dict[str, dict[str, object]]) -> list[str]:
    """Table rows for one estimator at one size."""
    base = results.get("agglomera", {})
    base_s, base_att = base.get("seconds"), base.get("att")
    rows = []
    for tool, r in results.items():
        notes = list(r.get("notes", []))  # type: ignore[call-overload]
        if r["status"] != "ok":
            notes.insert(0, str(r["status"]))
        secs, att = r.get("seconds"), r.get("att")
        ratio = secs / base_s if isinstance(secs, float) and isinstance(base_s, float) else None
        diff = (
            abs(att - base_att)
            if isinstance(att, float)
            and isinstance(base_att, float)
            and tool != "agglomera"
            and not r.get("subsample")
            else None
        )
        rows.append(
            f"| {n_units:,} | {estimator} | {tool} | {_fmt(secs, '.2f')} | "
            f"{_fmt(r.get('setup_seconds'), '.2f')} | {_fmt(r.get('process_seconds'), '.1f')} | "
            f"{_fmt(r.get('peak_mb'), '.0f')} | {_fmt(r.get('estimate_mb'), '.0f')} | "
            f"{_fmt(ratio, '.2f')} | {_fmt(att, '.4f')} | "
            f"{_fmt(diff, '.1e')} | {'; '.join(notes)} |"
        )
    return rows


HEADER = [
    "| units | estimator | tool | estimate s | design/setup s | process s | peak MB "
    "| estimate MB | ratio to agglomera | simple ATT | abs diff vs agglomera | notes |",
    "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
]


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("agglomera", "diff-diff", "moderndid", "csdid", "pyfixest", "numpy", "pandas"):
        try:
            out.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            out.append(f"{pkg} missing")
    return ", ".join(out)


def _total_memory_gb() -> float:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            return int(fh.readline().split()[1]) / 1024**2
    except (OSError, ValueError, IndexError):
        return float("nan")


def section(rows: list[str], command: str, args: argparse.Namespace) -> str:
    """Render one run as a Markdown sub-section."""
    return "\n".join(
        [
            f"### Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
            "",
            f"Command: `{command}`; machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"{_total_memory_gb():.0f} GB RAM, Python {platform.python_version()}; "
            f"{_versions()}. Timeout {args.timeout:.0f} s and memory cap "
            f"{args.mem_cap_gb:g} GB per worker.",
            "",
            *HEADER,
            *rows,
            "",
        ]
    )


DOC_INTRO = """\
## Staggered DID at scale (`benchmarks/did_scale.py`)

Task: the overall (simple) ATT of a staggered-adoption design on a balanced synthetic panel
of `N` units × 10 periods (cohorts first treated in periods 4, 6 and 8 plus never-treated
units; cohort membership depends on `x1`; effects differ across cohorts and grow with
exposure; two time-invariant covariates `x1`, `x2`), one Parquet file per size.

- **cs**: Callaway–Sant'Anna, doubly robust with `x1 + x2`, never-treated controls,
  analytic SE — agglomera `estimate(design, "y", estimator="cs", method="dr",
  controls=["x1", "x2"])` vs diff-diff `CallawaySantAnna`, moderndid `att_gt` + `aggte`,
  csdid `ATTgt`; **cs-boot** the same with 999 multiplier-bootstrap draws.
- **bjs**: imputation (no covariates) — agglomera vs diff-diff `ImputationDiD` and
  pyfixest `did2s` (Gardner's two-stage estimator, the same point estimate; dense, run on
  the first 5,000 units only).
- **sa**: Sun–Abraham (no covariates) — agglomera vs diff-diff `SunAbraham` and pyfixest
  `event_study(estimator="saturated")` (post cells weighted by treated observations).
- **twfe**: static TWFE — agglomera (through pyfixest) vs pyfixest `feols`.

Each (estimator, tool) runs in its own subprocess. "estimate s" is the estimation call
only (reading the Parquet file and imports excluded); "design/setup s" is agglomera's
one-off `design(Panel(df, unit="id", time="t"), cohort="g")` (peers: the column
preparation they need, if any); "process s" the whole worker (interpreter start, imports,
reading the data); "peak MB" the worker's peak resident memory (`VmHWM`, the loaded data
included — the pandas frame alone is ≈ 0.5 GB at 1 M units); "estimate MB" the extra
memory of the estimation call alone (its peak minus the resident memory when it starts:
the loaded frame, and for agglomera also the design, which holds its own sorted copy of
the panel, are not counted). "ratio" is the estimate time
over agglomera's for the same estimator and size; "abs diff" the absolute difference of
the simple ATT from agglomera's. A worker that exceeds the timeout or the memory cap is
killed and recorded as such.

Targets: **CS ≥ 3× faster than the fastest peer at 1 M units with ≤ half its
memory; BJS at 1 M units within 8 GB** (pyfixest did2s cannot reach 100 k).

<!-- did_scale runs: appended by benchmarks/did_scale.py -->
"""


# --------------------------------------------------------------------------- main


def _int(s: str) -> int:
    return int(s.replace("_", "").replace("k", "000").replace("M", "000000"))


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the benchmark (or one worker)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        estimator, tool, path, *cap = argv[1:]
        worker(estimator, tool, path, int(cap[0]) if cap else None)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=_int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--estimators", nargs="+", choices=list(PLAN), default=list(PLAN))
    parser.add_argument("--tools", nargs="+", choices=list(TOOL_FACTORIES), default=None)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per worker")
    parser.add_argument("--mem-cap-gb", type=float, default=16.0, help="per worker")
    parser.add_argument("--no-append", action="store_true", help="do not write docs")
    args = parser.parse_args(argv)

    command = "python benchmarks/did_scale.py " + " ".join(argv)
    all_rows: list[str] = []
    for n in args.sizes:
        t0 = time.perf_counter()
        path, how = ensure_data(n)
        print(f"data: {path} ({how}, {time.perf_counter() - t0:.1f} s)", flush=True)
        for estimator in args.estimators:
            results: dict[str, dict[str, object]] = {}
            for tool in PLAN[estimator]:
                if args.tools and tool not in args.tools and tool != "agglomera":
                    continue
                if args.tools and tool == "agglomera" and "agglomera" not in args.tools:
                    continue
                cap = CAPS.get((estimator, tool))
                notes: list[str] = []
                max_units = None
                if cap is not None and n > cap:
                    if (estimator, tool) in SUBSAMPLE:
                        max_units = cap
                        notes.append(
                            f"capped: first {cap:,} units (dense); its ATT is the subsample's"
                        )
                    else:
                        results[tool] = {"status": f"skipped (cap {cap:,} units)"}
                        print(f"{n:>9,} {estimator:8} {tool:15} skipped (cap)", flush=True)
                        continue
                r = run_worker(
                    estimator,
                    tool,
                    path,
                    timeout=args.timeout,
                    mem_cap_mb=args.mem_cap_gb * 1024,
                    max_units=max_units,
                )
                r["notes"] = notes
                r["subsample"] = max_units is not None
                results[tool] = r
                print(
                    f"{n:>9,} {estimator:8} {tool:15} {r['status']:10} "
                    f"est {_fmt(r.get('seconds'), '.2f'):>8} s  setup "
                    f"{_fmt(r.get('setup_seconds'), '.2f'):>6} s  proc "
                    f"{_fmt(r.get('process_seconds'), '.1f'):>6} s  peak "
                    f"{_fmt(r.get('peak_mb'), '.0f'):>6} MB  att {_fmt(r.get('att'), '.6f')}",
                    flush=True,
                )
            rows = markdown_rows(n, estimator, results)
            all_rows.extend(rows)
    text = section(all_rows, command, args)
    print(text)
    if not args.no_append:
        append_doc(text, marker=_doc_marker(args.estimators), intro=DOC_INTRO)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
