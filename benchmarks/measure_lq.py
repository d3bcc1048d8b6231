"""Benchmark: location quotients from firm microdata in Parquet, agglomera vs hand-written SQL.

Computes the employment location quotient by city × industry × year from ``N`` rows of
firm microdata (``agglomera.datasets.firm_microdata`` schema: ``firm_id`` int64, ``city``
str adcode, ``industry`` str GB/T 4754 section letter, ``year`` int16, ``employment``
int32) stored in Parquet, two ways, each in its own subprocess:

* ``agglomera`` — ``agglomera.measure.location_quotient(path, ...)`` on the default
  engine (the path is scanned lazily by DuckDB; the result is pandas);
* ``duckdb-sql`` — one hand-written DuckDB SQL query producing the same table (to pandas).

The parent measures each worker's wall time (inside the worker, around the call, and for
the whole process, interpreter start and imports included); each worker reports its own
peak resident memory (``VmHWM``, the high-water mark of that process),
checks that both tables are equal (relative tolerance 1e-9), prints a Markdown table and
appends it to ``docs/benchmarks.md`` (``--no-append`` to skip).

Usage::

    python benchmarks/measure_lq.py --quick            # 1 M rows
    python benchmarks/measure_lq.py --rows 10_000_000
    python benchmarks/measure_lq.py                    # 100 M rows (default)

The Parquet file is written once to ``benchmarks/out/`` and reused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import append_doc, peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
TOOLS = ("agglomera", "duckdb-sql")
KEYS = ["city", "industry", "year"]

SQL = """
WITH cells AS (
    SELECT city, industry, year, SUM(employment)::DOUBLE AS employment
    FROM read_parquet('{path}')
    GROUP BY city, industry, year
),
region AS (SELECT city, year, SUM(employment) AS e_rt FROM cells GROUP BY city, year),
sector AS (SELECT industry, year, SUM(employment) AS e_it FROM cells GROUP BY industry, year),
nation AS (SELECT year, SUM(employment) AS e_t FROM cells GROUP BY year)
SELECT c.city, c.industry, c.year, c.employment,
    (c.employment / region.e_rt) / (sector.e_it / nation.e_t) AS lq
FROM cells AS c
JOIN region USING (city, year)
JOIN sector USING (industry, year)
JOIN nation USING (year)
ORDER BY c.city, c.industry, c.year
"""


# --------------------------------------------------------------------------- data


def ensure_data(n_rows: int, path: Path) -> str:
    """Write ``n_rows`` of firm microdata to ``path`` once; return how it was made."""
    if path.exists():
        return "reused"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.parquet")
    try:
        from agglomera.datasets import firm_microdata
    except ImportError:
        _fallback_microdata(n_rows, tmp)
        how = "benchmarks/measure_lq.py fallback generator (same schema)"
    else:
        firm_microdata(n_rows, seed=0, path=tmp)
        how = "agglomera.datasets.firm_microdata(seed=0)"
    tmp.rename(path)
    return how


def _fallback_microdata(n_rows: int, path: Path, *, seed: int = 0, chunk: int = 5_000_000) -> None:
    """Write firm microdata in the ``firm_microdata`` schema, chunk by chunk."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    cities = np.array([f"{330000 + 100 * i:06d}" for i in range(300)])
    city_w = rng.pareto(1.2, cities.size) + 1
    city_w /= city_w.sum()
    industries = np.array(list("ABCDEFGHIJKLMNOPQRST"))
    ind_w = rng.dirichlet(np.full(industries.size, 2.0))
    schema = pa.schema(
        [
            ("firm_id", pa.int64()),
            ("city", pa.string()),
            ("industry", pa.string()),
            ("year", pa.int16()),
            ("employment", pa.int32()),
        ]
    )
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, n_rows, chunk):
            n = min(chunk, n_rows - start)
            table = pa.table(
                {
                    "firm_id": np.arange(start, start + n, dtype=np.int64),
                    "city": cities[rng.choice(cities.size, n, p=city_w)],
                    "industry": industries[rng.choice(industries.size, n, p=ind_w)],
                    "year": rng.integers(2005, 2020, n).astype(np.int16),
                    "employment": rng.lognormal(2.5, 1.2, n).astype(np.int32) + 1,
                },
                schema=schema,
            )
            writer.write_table(table, row_group_size=1_000_000)


# --------------------------------------------------------------------------- workers


def worker(tool: str, path: str, out: str) -> None:
    """Run one tool in this process; write its table to ``out`` and timing to stdout."""
    t0 = time.perf_counter()
    import duckdb
    import pandas  # noqa: F401  (both tools return pandas: keep its import out of the timing)

    if tool == "agglomera":
        from agglomera.measure.location_quotients import location_quotient

        t1 = time.perf_counter()
        table = location_quotient(
            path, region="city", time="year", value="employment", industry="industry"
        )
    else:
        t1 = time.perf_counter()
        relation = duckdb.sql(SQL.format(path=path))
        assert relation is not None
        table = relation.df()
    seconds = time.perf_counter() - t1
    peak_mb = peak_rss_mb()
    table.to_parquet(out)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "import_seconds": t1 - t0,
                "rows_out": len(table),
                "peak_mb": peak_mb,
            }
        )
    )


def run_tool(tool: str, path: Path, out: Path) -> dict[str, float]:
    """Run ``tool`` in a subprocess; return its timings and peak RSS (MB)."""
    cmd = [sys.executable, __file__, "--worker", tool, "--path", str(path), "--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed:\n{stderr}")
    result: dict[str, float] = json.loads(stdout.strip().splitlines()[-1])
    result["process_seconds"] = wall
    return result


def compare(a: Path, b: Path) -> None:
    """Raise if the two result tables differ."""
    import pandas as pd

    left = pd.read_parquet(a).sort_values(KEYS).reset_index(drop=True)
    right = pd.read_parquet(b).sort_values(KEYS).reset_index(drop=True)
    cols = [*KEYS, "employment", "lq"]
    pd.testing.assert_frame_equal(left[cols], right[cols], check_dtype=False, rtol=1e-9)


# --------------------------------------------------------------------------- report


def markdown(rows: int, results: dict[str, dict[str, float]], how: str, command: str) -> str:
    """Render one run as a Markdown section."""
    import duckdb
    import narwhals

    base = results["duckdb-sql"]["seconds"]
    lines = [
        f"### {rows:,} rows — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`; machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{_total_memory_gb():.0f} GB RAM, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"narwhals {narwhals.__version__}; data: {how}. Output: "
        f"{int(results['agglomera']['rows_out']):,} city × industry × year cells; "
        "tables equal (rtol 1e-9).",
        "",
        "| rows | tool | seconds | process seconds | peak MB | ratio to SQL |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for tool in TOOLS:
        r = results[tool]
        lines.append(
            f"| {rows:,} | {tool} | {r['seconds']:.2f} | {r['process_seconds']:.2f} | "
            f"{r['peak_mb']:.0f} | {r['seconds'] / base:.2f} |"
        )
    return "\n".join(lines) + "\n"


def _total_memory_gb() -> float:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            return int(fh.readline().split()[1]) / 1024**2
    except (OSError, ValueError, IndexError):
        return float("nan")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the benchmark (or one worker)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=100_000_000)
    parser.add_argument("--quick", action="store_true", help="1 M rows")
    parser.add_argument("--data", type=Path, help="Parquet file (default benchmarks/out/...)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool (best is kept)")
    parser.add_argument("--no-append", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.path, args.out)
        return 0

    rows = 1_000_000 if args.quick else args.rows
    path = args.data or OUT / f"firm_microdata_{rows}.parquet"
    t0 = time.perf_counter()
    how = ensure_data(rows, path)
    print(f"data: {path} ({how}, {time.perf_counter() - t0:.1f} s)", flush=True)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        outs = {tool: Path(tmp) / f"{tool}.parquet" for tool in TOOLS}
        for _ in range(args.repeat):
            for tool in TOOLS:  # alternate so that both see the same cache state
                r = run_tool(tool, path, outs[tool])
                if tool not in results or r["seconds"] < results[tool]["seconds"]:
                    results[tool] = r
                print(f"{tool}: {r['seconds']:.2f} s, peak {r['peak_mb']:.0f} MB", flush=True)
        compare(outs["agglomera"], outs["duckdb-sql"])
    command = "python benchmarks/measure_lq.py " + " ".join(argv or sys.argv[1:])
    section = markdown(rows, results, how if how != "reused" else "reused Parquet", command)
    print(section)
    if not args.no_append:
        append_doc(section, marker="<!-- measure_lq runs: appended by benchmarks/measure_lq.py -->")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
