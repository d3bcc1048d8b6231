"""Benchmark: panel VAR by GMM with unit-bootstrap IRF bands, agglomera vs plain loops.

Task: a panel VAR(2) of 3 variables on a balanced panel of 300 units × 20 years
(simulated, seeded; stable VAR with unit effects), FOD, two-step GMM with collapsed
GMM-style instruments (lags 2–99 of the levels: 54 instruments, 162 moment conditions),
then orthogonalised IRFs over 10 steps with 95 % bands from ``R`` = 500 unit-bootstrap
re-estimations (units resampled with replacement, model re-estimated, seeded).

Tools, each in its **own subprocess** (peak resident memory ``VmHWM`` per tool):

* ``agglomera`` — ``panel_var(...)`` then ``res.irf(10, bands="bootstrap", draws=R)``
  (the re-estimations are vectorised over draws through per-unit cross products);
  the timing includes the point estimate;
* ``agglomera-mt`` — the same, with the BLAS library's default number of threads (all
  other tools run with ``--blas-threads`` threads, default 1);
* ``agglomera-mc`` — the same with Monte Carlo bands (``bands="montecarlo"``);
* ``numpy-loop`` — a direct baseline written plainly: the per-unit FOD-transformed
  regressors and instrument matrices are built once; each draw stacks the resampled
  units, runs one-step and two-step GMM with numpy (``np.linalg``) in a loop over units
  for the weighting matrix, and computes the orthogonalised IRFs with statsmodels'
  ``ma_rep`` and a Cholesky factor;
* ``agglomera-loop`` — a per-draw loop of the public ``panel_var`` on the resampled
  panel (new unit ids for repeated units) followed by ``irf(bands=None)``.

Loops run on the first ``--loop-draws`` draws (default 50) and are **extrapolated
linearly** to ``R``; the draws are the same unit resamples as agglomera's
(``bootstrap_weights(300, R, seed=0)``), and the IRF draws of every loop are compared
with agglomera's (``max abs Δ``).

Usage::

    python benchmarks/interaction.py                 # R = 500, appends to docs/benchmarks.md
    python benchmarks/interaction.py --draws 100 --no-append
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from _harness import append_doc, machine, peak_rss_mb, run_worker, utc_stamp

ROOT = Path(__file__).resolve().parents[1]
N_UNITS, N_YEARS, LAGS, STEPS = 300, 20, 2, 10
VARS = ["y1", "y2", "y3"]
OPTIONS = {"lags": LAGS, "collapse": True, "instrument_lags": (2, 99)}
TOOLS = ("agglomera", "agglomera-mt", "agglomera-mc", "numpy-loop", "agglomera-loop")


def make_frame(seed: int = 0):
    """Balanced 300 × 20 panel from a stable VAR(2) with unit effects (50 burn-in years)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    a1 = np.array([[0.5, 0.1, 0.0], [0.2, 0.3, 0.1], [0.0, 0.2, 0.4]])
    a2 = np.array([[0.1, 0.0, 0.05], [0.0, 0.1, 0.0], [0.05, 0.0, 0.1]])
    chol = np.array([[1.0, 0.0, 0.0], [0.3, 0.8, 0.0], [0.2, 0.3, 0.7]])
    mu = rng.normal(size=(N_UNITS, 3))
    burn = 50
    y = np.zeros((N_UNITS, N_YEARS + burn, 3))
    for t in range(2, N_YEARS + burn):
        shock = rng.standard_normal((N_UNITS, 3)) @ chol.T
        y[:, t] = mu + y[:, t - 1] @ a1.T + y[:, t - 2] @ a2.T + shock
    y = y[:, burn:]
    frame = pd.DataFrame(
        {"id": np.repeat(np.arange(N_UNITS), N_YEARS), "year": np.tile(np.arange(N_YEARS), N_UNITS)}
    )
    for k, v in enumerate(VARS):
        frame[v] = y[:, :, k].ravel()
    return frame


def _plain_unit_matrices(frame):
    """Per-unit FOD-transformed Y, X and collapsed instrument matrices, written plainly."""
    import numpy as np

    out = []
    for _, g in frame.groupby("id", sort=True):
        lv = g[VARS].to_numpy(dtype=float)  # (T, 3), balanced
        t_len = lv.shape[0]

        def fod(a):
            res = np.full_like(a, np.nan)
            for t in range(a.shape[0] - 1):
                fut = a[t + 1 :]
                k = fut.shape[0]
                res[t + 1] = np.sqrt(k / (k + 1)) * (a[t] - fut.mean(axis=0))
            return res

        y_t = fod(lv)
        lagged = []
        for lag in range(1, LAGS + 1):
            s = np.full_like(lv, np.nan)
            s[lag:] = lv[:-lag]
            lagged.append(fod(s))
        x_t = np.hstack(lagged)
        slots = np.arange(LAGS + 1, t_len)
        z = []
        for s in slots:
            row = []
            for d in range(2, min(99, int(slots.max())) + 1):
                row.extend(lv[s - d] if s - d >= 0 else np.zeros(3))
            z.append(row)
        out.append((y_t[slots], x_t[slots], np.asarray(z)))
    return out


def _plain_fit(units):
    """Two-step system GMM (one weighting matrix), plain numpy."""
    import numpy as np

    m = len(VARS)
    szx = sum(z.T @ x for y, x, z in units)
    szy = sum(z.T @ y for y, x, z in units)
    a = sum(z.T @ z for y, x, z in units)
    a_inv = np.linalg.inv(a)
    coef1 = np.linalg.solve(szx.T @ a_inv @ szx, szx.T @ a_inv @ szy)  # (K, m)
    el = szx.shape[0]
    dmat = np.zeros((el * m, el * m))
    for y, x, z in units:
        g = (z.T @ (y - x @ coef1)).ravel()
        dmat += np.outer(g, g)
    big_g = np.kron(szx, np.eye(m))
    d_inv = np.linalg.inv(dmat)
    theta = np.linalg.solve(big_g.T @ d_inv @ big_g, big_g.T @ d_inv @ szy.ravel())
    coef = theta.reshape(-1, m).T  # (m, K)
    resid = np.vstack([y - x @ coef.T for y, x, z in units])
    sigma = resid.T @ resid / (resid.shape[0] - coef.shape[1])
    return coef, sigma


def _plain_irf(coef, sigma):
    import numpy as np
    from statsmodels.tsa.vector_ar.var_model import ma_rep

    m = len(VARS)
    coefs = np.stack([coef[:, lag * m : (lag + 1) * m] for lag in range(LAGS)])
    return ma_rep(coefs, STEPS) @ np.linalg.cholesky(sigma)


def worker(tool: str, draws: int, loop_draws: int) -> dict[str, object]:
    """Run one tool in this process and return its timing record."""
    import warnings

    warnings.filterwarnings("ignore")
    import numpy as np
    import pandas as pd

    from agglomera import Panel
    from agglomera.interaction._pvar_irf import bootstrap_weights
    from agglomera.interaction.panel_var import panel_var

    frame = make_frame()
    panel = Panel(frame, unit="id", time="year")
    weights = bootstrap_weights(N_UNITS, draws, 0)
    ran = draws
    values: list[float] = []
    extra: dict[str, object] = {}
    if tool in ("agglomera", "agglomera-mt", "agglomera-mc"):
        panel_var(panel, VARS, **OPTIONS).irf(2, bands="bootstrap", draws=2)  # warm-up
        bands = "montecarlo" if tool == "agglomera-mc" else "bootstrap"
        t0 = time.perf_counter()
        res = panel_var(panel, VARS, **OPTIONS)
        fit_seconds = time.perf_counter() - t0
        f = res.irf(STEPS, bands=bands, draws=draws, seed=0)
        seconds = time.perf_counter() - t0
        extra = {"fit_seconds": fit_seconds, "failed": f.attrs["failed_draws"]}
        if tool == "agglomera":
            b_coef, b_sigma = res._draws("bootstrap", min(draws, 100), 0)
            from agglomera.interaction._pvar_irf import irf_from_coef

            irfs = irf_from_coef(b_coef, b_sigma, lags=LAGS, steps=STEPS)
            values = irfs.reshape(irfs.shape[0], -1).ravel().tolist()
    elif tool == "numpy-loop":
        ran = min(loop_draws, draws)
        t0 = time.perf_counter()
        units = _plain_unit_matrices(frame)
        out = []
        for r in range(ran):
            sample = [units[i] for i, c in enumerate(weights[r]) for _ in range(c)]
            coef, sigma = _plain_fit(sample)
            out.append(_plain_irf(coef, sigma))
        seconds = time.perf_counter() - t0
        values = np.asarray(out).reshape(ran, -1).ravel().tolist()
    elif tool == "agglomera-loop":
        ran = min(loop_draws, draws)
        panel_var(panel, VARS, **OPTIONS)  # warm-up
        t0 = time.perf_counter()
        groups = {u: g for u, g in frame.groupby("id", sort=True)}
        out = []
        for r in range(ran):
            parts = []
            for i, c in enumerate(weights[r]):
                for k in range(c):
                    parts.append(groups[i].assign(id=f"{i}-{k}"))
            res = panel_var(Panel(pd.concat(parts), unit="id", time="year"), VARS, **OPTIONS)
            f = res.irf(STEPS, bands=None)
            arr = np.zeros((STEPS + 1, 3, 3))
            for row in f.itertuples(index=False):
                arr[row.step, VARS.index(row.response), VARS.index(row.impulse)] = row.irf
            out.append(arr)
        seconds = time.perf_counter() - t0
        values = np.asarray(out).reshape(ran, -1).ravel().tolist()
    else:
        raise ValueError(tool)
    return {
        "tool": tool,
        "ran": ran,
        "seconds": seconds,
        "per_draws": seconds * draws / ran,
        "peak_mb": peak_rss_mb(),
        "values": values[: 100 * (STEPS + 1) * 9],
        **extra,
    }


def run_tool(
    tool: str, draws: int, loop_draws: int, timeout: float, blas_threads: int
) -> dict[str, object]:
    """Run one tool in a subprocess; never raise.

    Every tool but ``agglomera-mt`` runs with ``blas_threads`` BLAS/OpenMP threads;
    ``agglomera-mt`` keeps the BLAS library's default.
    """
    env = dict(os.environ)
    if tool != "agglomera-mt":
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(blas_threads)
    return run_worker(__file__, tool, [str(draws), str(loop_draws)], timeout, env=env)


MARKER = "<!-- panel VAR runs: appended by benchmarks/interaction.py -->"
DOC_INTRO = f"""## Panel VAR: unit-bootstrap IRF bands (`benchmarks/interaction.py`)

Task: panel VAR(2) of 3 variables, balanced panel of 300 units × 20 years (simulated,
seeded), FOD, two-step GMM with collapsed instruments (lags 2–99 of the levels, 162
moment conditions); orthogonalised IRFs over 10 steps with 95 % bands from 500
unit-bootstrap re-estimations (units resampled with replacement, seeded).

- **agglomera**: `panel_var(...)` + `res.irf(10, bands="bootstrap", draws=500)` — the
  re-estimations are vectorised over draws (per-unit cross products); the time includes
  the point estimate;
- **agglomera-mt**: the same with the BLAS library's default threading (the other tools
  run with `--blas-threads`, default 1: batched small LAPACK calls lose much time to
  thread synchronisation when the cores are shared);
- **agglomera-mc**: the same with Monte Carlo bands (coefficients from N(b, V));
- **numpy-loop**: the same computation written plainly — per-unit matrices built once,
  then per draw a numpy two-step GMM (loop over units for the weighting matrix) and
  statsmodels' `ma_rep` + Cholesky for the IRFs;
- **agglomera-loop**: a loop of the public `panel_var` on each resampled panel.

Each tool runs in its own subprocess (peak MB = its `VmHWM`, including Python, pandas and
the data). Loops run on the first 50 draws and are **extrapolated linearly** to 500
(marked); they use the same unit resamples as agglomera, and "max abs Δ" compares their
IRF draws with agglomera's. Target: ≤ 20 s for 500 bootstrap draws on 2 cores.

{MARKER}
"""


def report(records: dict[str, dict[str, object]], args: argparse.Namespace) -> str:
    """Markdown section with the run's table."""
    import numpy as np

    stamp = utc_stamp()
    host = machine(f"numpy {np.__version__}")
    lines = [
        f"### {args.draws} bootstrap IRF draws, {N_UNITS} units × {N_YEARS} years, "
        f"3 variables, 2 lags — {stamp}",
        "",
        f"Command: `python benchmarks/interaction.py --draws {args.draws} --loop-draws "
        f"{args.loop_draws} --blas-threads {args.blas_threads}`; machine: {host}; "
        f"1-min load average when the table was written {os.getloadavg()[0]:.1f}. "
        f"BLAS threads: {args.blas_threads} for every tool except agglomera-mt "
        "(library default).",
        "",
        f"| tool | draws run | seconds | seconds per {args.draws} draws | peak MB "
        "| × agglomera | max abs Δ vs agglomera draws |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    base = records.get("agglomera", {})
    base_vals = np.asarray(base.get("values", []), dtype=float)
    for tool in args.tools:
        rec = records.get(tool)
        if rec is None:
            continue
        if rec.get("status") != "ok":
            lines.append(f"| {tool} | | | | | | {rec.get('status')} |")
            continue
        per = float(rec["per_draws"])  # type: ignore[arg-type]
        ratio = per / float(base["per_draws"]) if base.get("status") == "ok" else float("nan")  # type: ignore[arg-type]
        vals = np.asarray(rec.get("values", []), dtype=float)
        k = min(vals.size, base_vals.size)
        if tool in ("agglomera", "agglomera-mt", "agglomera-mc"):
            delta = {"agglomera": "", "agglomera-mt": "same draws"}.get(tool, "— (other bands)")
        else:
            delta = f"{np.max(np.abs(vals[:k] - base_vals[:k])):.1e}" if k else "—"
        mark = " (extrapolated)" if int(rec["ran"]) < args.draws else ""  # type: ignore[call-overload]
        lines.append(
            f"| {tool} | {rec['ran']} | {float(rec['seconds']):.2f} | {per:.2f}{mark} | "  # type: ignore[arg-type]
            f"{float(rec['peak_mb']):.0f} | {ratio:.2g}× | {delta} |"  # type: ignore[arg-type]
        )
    if base.get("status") == "ok":
        lines += ["", f"agglomera point estimate alone: {float(base['fit_seconds']):.2f} s."]  # type: ignore[arg-type]
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run every tool, print and append the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--worker", nargs=3, metavar=("TOOL", "DRAWS", "LOOP_DRAWS"))
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--loop-draws", type=int, default=50)
    ap.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--blas-threads", type=int, default=1)
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    if args.worker:
        tool, draws, loop_draws = args.worker
        print(json.dumps(worker(tool, int(draws), int(loop_draws))), flush=True)
        return
    records = {}
    for tool in args.tools:
        records[tool] = run_tool(tool, args.draws, args.loop_draws, args.timeout, args.blas_threads)
        print(tool, {k: v for k, v in records[tool].items() if k != "values"}, flush=True)
    text = report(records, args)
    print(text)
    if not args.no_append:
        append_doc(text, marker=MARKER, intro=DOC_INTRO)


if __name__ == "__main__":
    main()
