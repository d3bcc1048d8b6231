"""The replication section: published numbers beside the ones this run computed."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from agglomera.errors import SpecError
from agglomera.study.sections import Section
from agglomera.study.spec import ReplicationSpec

__all__ = ["resolve", "run_replication"]

_PART = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<select>[^\]]+)\])?$")


def _select(items: list[Any], select: str, path: str) -> Any:
    if "=" not in select:
        return items[int(select)]
    field, wanted = (x.strip() for x in select.split("=", 1))
    for item in items:
        if isinstance(item, dict) and str(item.get(field)) == wanted:
            return item
        if isinstance(item, dict) and _same_number(item.get(field), wanted):
            return item
    raise SpecError(f"replication: no element with {field} = {wanted} at {path!r}.")


def _same_number(value: Any, text: str) -> bool:
    try:
        return value is not None and float(value) == float(text)
    except (TypeError, ValueError):
        return False


def resolve(results: dict[str, Any], path: str) -> Any:
    """Follow a dotted path (with ``[i]`` or ``[field=value]`` selectors) into results."""
    node: Any = results
    for part in path.split("."):
        match = _PART.match(part)
        if match is None or not isinstance(node, dict) or match["name"] not in node:
            keys = sorted(node) if isinstance(node, dict) else []
            raise SpecError(
                f"replication: quantity {path!r}: no key {part!r}; available here: "
                f"{', '.join(map(str, keys)) or '(none)'}."
            )
        node = node[match["name"]]
        if match["select"] is not None:
            if not isinstance(node, list):
                raise SpecError(f"replication: {part!r} in {path!r} is not a list.")
            node = _select(node, match["select"], path)
    return node


def run_replication(
    spec: ReplicationSpec, results: dict[str, Any], *, language: str = "en"
) -> Section:
    """Compare each target with this run's number; a table with the verdicts."""
    from agglomera.report.table import Table

    section = Section("replication", language)
    section.text(f"Published source: {spec.source}.")
    rows = []
    for target in spec.targets:
        value = resolve(results, target.quantity)
        if not isinstance(value, int | float):
            raise SpecError(
                f"replication: quantity {target.quantity!r} is not a number ({value!r})."
            )
        ours = round(float(value), target.digits)
        rows.append(
            {
                "quantity": target.label or target.quantity,
                "published": f"{target.published:.{target.digits}f}",
                "this run": f"{float(value):.{target.digits}f}",
                "match": "yes" if ours == round(target.published, target.digits) else "NO",
            }
        )
    frame = pd.DataFrame(rows)
    n_match = int((frame["match"] == "yes").sum())
    section.text(f"{n_match} of {len(frame)} published numbers reproduced to the digits shown.")
    section.table(
        "targets",
        Table.from_frame(frame, title="Published and reproduced numbers", index=False),
    )
    section.results = {"n_targets": len(frame), "n_match": n_match, "targets": rows}
    return section
