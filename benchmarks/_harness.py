"""Helpers shared by the benchmark scripts: peak memory of a worker and the results page.

The scripts run as ``python benchmarks/<script>.py`` (this folder is then on ``sys.path``),
start one subprocess per tool, and append their Markdown tables to ``docs/benchmarks.md``.
"""

from __future__ import annotations

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
