"""Helpers shared by the benchmark scripts: worker subprocesses, their peak memory, results page.

The scripts run as ``python benchmarks/<script>.py`` (this folder is then on ``sys.path``),
start one subprocess per tool, and append their Markdown tables to ``docs/benchmarks.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB.

    ``VmHWM`` from ``/proc/self/status`` (Linux) belongs to this process image only;
    ``ru_maxrss``, the fallback elsewhere, can carry over the high-water mark of the parent
    that forked it.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def utc_stamp() -> str:
    """Return the current time as ``YYYY-MM-DD HH:MM UTC`` for a section heading."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def machine(*extra: str) -> str:
    """``<arch>, <n> cores, Python <version>``, then ``extra`` (e.g. library versions)."""
    return ", ".join(
        [
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            *extra,
        ]
    )


def append_doc(section: str, *, marker: str, intro: str | None = None) -> None:
    """Insert ``section`` right after ``marker`` in ``docs/benchmarks.md`` (newest first).

    When the marker is missing, ``intro`` (the benchmark's description, which must contain
    the marker) is appended first; without an intro the section goes at the end.
    """
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if marker not in text:
        if intro is None:
            DOC.write_text(text.rstrip() + "\n\n" + section + "\n", encoding="utf-8")
            return
        text = text.rstrip() + "\n\n" + intro
    DOC.write_text(text.replace(marker, f"{marker}\n\n{section}\n", 1), encoding="utf-8")


def run_worker(
    script: str,
    tool: str,
    worker_args: list[str],
    timeout: float,
    env: dict[str, str] | None = None,
) -> dict[str, object]:
    """Run ``python <script> --worker <tool> <worker_args>`` in a subprocess; never raise.

    Returns the JSON record the worker printed last, with ``status="ok"`` and
    ``process_seconds`` (wall time of the subprocess), or ``{"tool", "status",
    "process_seconds"}`` with status ``"timeout"`` or ``"failed: <last stderr line>"``.
    """
    cmd = [sys.executable, script, "--worker", tool, *worker_args]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env
        )
    except subprocess.TimeoutExpired:
        return {"tool": tool, "status": "timeout", "process_seconds": timeout}
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"tool": tool, "status": f"failed: {last[:120]}", "process_seconds": wall}
    rec: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    rec.update(status="ok", process_seconds=wall)
    return rec
