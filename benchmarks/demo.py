"""Benchmark: ``agglomera demo`` end to end (both seed studies, 1,000 placebo draws).

The README's main command, timed as a user runs it: a fresh Python process executes
``agglomera demo --out DIR`` (imports included), and the wall time and the peak resident
memory of that process are recorded, with the seconds of every study step read back from
each study's ``results.json``. There is no peer that runs a whole study; the comparison is
with the target (indicatively ≤ 60 s on 2 cores after installation).

Usage::

    python benchmarks/demo.py              # appends to docs/benchmarks.md
    python benchmarks/demo.py --no-append
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _harness import append_doc

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "demo"
MARKER = "<!-- demo results -->"
INTRO = f"""## The demo end to end (`benchmarks/demo.py`)

Task: `agglomera demo --out DIR` in a fresh process — the innovative-city DID study
(293 prefecture-level cities × 17 years; TWFE, event study, CS, BJS; 1,000 placebo draws;
Goodman-Bacon, exclusions, fake timing; heterogeneity; mechanisms) and the Zhejiang Bay Area
interaction study (composite indices, coupling dynamics, Dumitrescu–Hurlin, panel VAR with
500 Monte Carlo IRF draws, Moran's I and LISA with 999 permutations, an SDM with Lee–Yu and
1,000 effect draws), each writing report.html, four table formats, PNG and SVG figures and
results.json. Wall time and peak memory of the whole process; per-step seconds from each
study's results.json. Target: indicatively ≤ 60 s on 2 cores.

{MARKER}
"""


def run(out: Path) -> dict[str, object]:
    if out.exists():
        shutil.rmtree(out)
    exe = Path(sys.executable).with_name("agglomera")
    start = time.perf_counter()
    subprocess.run([str(exe), "--quiet", "demo", "--out", str(out)], check=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    steps = {}
    for study in ("innovative_city", "zhejiang_bay"):
        document = json.loads((out / study / "results.json").read_text(encoding="utf-8"))
        steps[study] = document["seconds"]
    return {"seconds": seconds, "peak_mb": peak, "steps": steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-append", action="store_true", help="do not write the doc page")
    args = parser.parse_args()
    result = run(OUT)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    rows = [
        "| study | step | seconds |",
        "|---|---|---:|",
    ]
    for study, steps in result["steps"].items():  # type: ignore[union-attr]
        for step, secs in steps.items():
            rows.append(f"| {study} | {step} | {secs:.2f} |")
    section = "\n".join(
        [
            f"### {dt.date.today().isoformat()} — {machine}",
            "",
            f"`agglomera demo` end to end: **{result['seconds']:.1f} s** wall time, peak "
            f"memory {result['peak_mb']:.0f} MB (target ≤ 60 s).",
            "",
            *rows,
            "",
            "Command: `.venv/bin/python benchmarks/demo.py`. The step times exclude Python "
            "start-up and imports, which the wall time includes.",
        ]
    )
    print(section)
    if not args.no_append:
        append_doc(section, marker=MARKER, intro=INTRO)


if __name__ == "__main__":
    main()
