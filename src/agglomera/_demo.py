"""The ``agglomera demo`` job: run both seed studies on the shipped example data.

The two study files ship with the package (``agglomera/study/examples``; also linked from
the repository's ``examples/``):

* ``innovative_city.toml`` — the national innovative-city pilot and high-tech talent
  agglomeration: staggered DID with TWFE, event study, Callaway–Sant'Anna and BJS, 1,000
  placebo draws, robustness, heterogeneity and mechanisms;
* ``zhejiang_bay.toml`` — industry–talent interaction in Zhejiang's Bay Area: indicator
  systems, coupling coordination, panel Granger causality, panel VAR with impulse
  responses, Moran's I, LISA and a spatial Durbin model with effects.

Each study's report goes to its own folder under the output directory, with an
``index.html`` linking both. The numbers are the API's (the demo is ``run_study`` +
``write_report``).
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["DEMO_STUDIES", "DemoOutputs", "run_demo", "study_file"]

#: The seed studies run by the demo, in order (file stem → short description).
DEMO_STUDIES: dict[str, str] = {
    "innovative_city": "Innovative-city pilot and high-tech talent agglomeration (staggered DID)",
    "zhejiang_bay": "Industry–talent interaction in Zhejiang's Bay Area",
}


@dataclass(frozen=True)
class DemoOutputs:
    """What the demo wrote: one report folder per study, the index, the timings."""

    folders: dict[str, Path]
    index: Path
    seconds: dict[str, float]
    files: tuple[Path, ...]


def study_file(name: str) -> Path:
    """Return the path of a shipped example study file (``innovative_city``, ``zhejiang_bay``)."""
    path = resources.files("agglomera.study") / "examples" / f"{name}.toml"
    return Path(str(path))


def _index(folders: dict[str, Path], out: Path, seconds: dict[str, float]) -> Path:
    items = "\n".join(
        f'<li><a href="{html.escape(folder.name)}/report.html">'
        f"{html.escape(DEMO_STUDIES[name])}</a> ({seconds[name]:.1f} s)</li>"
        for name, folder in folders.items()
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>agglomera demo</title></head><body>\n<h1>agglomera demo</h1>\n"
        "<p>Both seed studies on the shipped example data (simulated on real geography and "
        f"real pilot years).</p>\n<ul>\n{items}\n</ul>\n</body></html>\n"
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _status_line(status: Any, label: str) -> Callable[[str], None]:
    """Return a progress callback that shows the current step on a rich status line."""

    def update(step: str) -> None:
        status.update(f"{label}: {step}")

    return update


def run_demo(out: Path, *, quiet: bool = False) -> DemoOutputs:
    """Run both seed studies and write their reports under ``out``.

    Parameters
    ----------
    out : Path
        Output directory (created if needed); each study writes ``out/<study>/``.
    quiet : bool, default False
        Print nothing but errors.
    """
    from rich.console import Console

    from agglomera.study import run_study, write_report

    console = Console(quiet=quiet, stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    folders: dict[str, Path] = {}
    seconds: dict[str, float] = {}
    files: list[Path] = []
    for name, description in DEMO_STUDIES.items():
        start = time.perf_counter()
        source = study_file(name)
        with console.status(f"{description}: starting") as status:
            report = run_study(source, progress=_status_line(status, description))
            folder = out / name
            files += write_report(report, folder, study_file=source)
        seconds[name] = time.perf_counter() - start
        folders[name] = folder
        console.print(f"{description}: {folder / 'report.html'} ({seconds[name]:.1f} s)")
    index = _index(folders, out, seconds)
    console.print(
        f"The example data are simulated on real geography and real pilot years. Open {index}."
    )
    return DemoOutputs(folders=folders, index=index, seconds=seconds, files=(*files, index))
