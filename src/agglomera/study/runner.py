"""Run a study: data → measures → analyses → a :class:`StudyReport` (and its files)."""

from __future__ import annotations

import platform
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from agglomera._version import __version__
from agglomera.study.sections import StudyReport
from agglomera.study.spec import StudySpec, load_study

__all__ = ["run_study", "software_versions"]

_LIBRARIES = (
    "numpy",
    "pandas",
    "scipy",
    "pyfixest",
    "statsmodels",
    "linearmodels",
    "libpysal",
    "esda",
    "matplotlib",
    "duckdb",
)


def software_versions() -> dict[str, str]:
    """Versions of agglomera, Python and the numerical libraries (installed ones only)."""
    versions = {"agglomera": __version__, "python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def run_study(
    study: StudySpec | str | Path,
    *,
    base: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyReport:
    """Run every step of a study and collect the report in memory.

    Parameters
    ----------
    study : StudySpec, str or Path
        A validated spec or the path of a study file.
    base : str or Path, optional
        Folder for relative data paths; default the study file's folder (or the current
        folder for a spec object).
    progress : callable, optional
        Called with the name of each step as it starts (the command line shows it).

    Returns
    -------
    StudyReport
        Write it with :func:`agglomera.study.write_report`.
    """
    from agglomera.study.load import load_data
    from agglomera.study.measures_step import add_measures

    if isinstance(study, str | Path):
        folder = Path(study).resolve().parent
        spec = load_study(study)
    else:
        folder, spec = Path.cwd(), study
    folder = Path(base) if base is not None else folder
    report = StudyReport(spec=spec, software=software_versions())
    seed, language, outputs = spec.study.seed, spec.study.language, spec.outputs

    with _step(report, "data", progress):
        panel, section = load_data(spec.data, base=folder, seed=seed, language=language)
        report.sections.append(section)
    if spec.measures:
        with _step(report, "measures", progress):
            panel, section = add_measures(panel, list(spec.measures), language=language)
            report.sections.append(section)
    if spec.figures:
        from agglomera.study.figures_step import run_figures

        with _step(report, "figures", progress):
            report.sections.append(run_figures(panel, list(spec.figures), language=language))
    if spec.policy is not None:
        from agglomera.study.policy_step import run_policy

        with _step(report, "policy", progress):
            report.sections.append(
                run_policy(
                    panel,
                    spec.policy,
                    outputs,
                    seed=seed,
                    language=language,
                    progress=None if progress is None else _prefixed(progress, "policy"),
                )
            )
    if spec.interaction is not None:
        from agglomera.study.interaction_step import run_interaction

        with _step(report, "interaction", progress):
            report.sections.append(
                run_interaction(panel, spec.interaction, outputs, seed=seed, language=language)
            )
    if spec.spatial is not None:
        from agglomera.study.spatial_step import run_spatial

        with _step(report, "spatial", progress):
            report.sections.append(
                run_spatial(panel, spec.spatial, outputs, seed=seed, language=language)
            )
    if spec.replication is not None:
        from agglomera.study.replication import run_replication

        with _step(report, "replication", progress):
            report.sections.append(
                run_replication(spec.replication, report.results(), language=language)
            )
    report.provenance = list(panel.provenance)
    return report


def _prefixed(progress: Callable[[str], None], step: str) -> Callable[[str], None]:
    """Return a status callback that names the step before the message."""

    def note(message: str) -> None:
        progress(f"{step}: {message}")

    return note


@contextmanager
def _step(report: StudyReport, name: str, progress: Callable[[str], None] | None) -> Iterator[None]:
    """Announce a step and record its wall-clock seconds."""
    if progress is not None:
        progress(name)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    report.seconds[name] = round(time.perf_counter() - start, 3)
    if report.sections:
        messages = [str(w.message) for w in caught]
        report.sections[-1].warnings.extend(dict.fromkeys(messages))
