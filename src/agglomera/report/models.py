"""Model columns of regression tables: one estimated model as coefficients, SEs and stats.

:class:`ModelColumn` is the small protocol behind :meth:`agglomera.report.Table.regression`:
it is built from an agglomera :class:`~agglomera.policy.DIDResult`, a mapping, or a fitted
statsmodels, linearmodels or pyfixest model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from agglomera.errors import SpecError, format_examples

__all__ = ["ModelColumn"]


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if callable(value):
        value = value()
    if isinstance(value, pd.Series):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    raise SpecError(f"{what} must be a mapping or pandas Series; got {type(value).__name__}.")


def _attr(obj: Any, names: Sequence[str]) -> Any:
    for name in names:
        if hasattr(obj, name):
            value = getattr(obj, name)
            return value() if callable(value) else value
    return None


@dataclass(frozen=True)
class ModelColumn:
    """One model of a regression table: coefficients, standard errors, p-values, statistics.

    Attributes
    ----------
    name : str
        Model name (e.g. ``"TWFE"``, ``"CS"``); used as the spanning column group.
    coef : dict
        Estimates by term.
    se : dict
        Standard errors by term.
    pvalue : dict
        p-values by term (a term without one gets no stars).
    stats : dict
        Statistics by key: ``n_obs``, ``r2``, ``adj_r2``, ``n_units``, ... (integers are
        printed with thousands separators, floats with the table's digits, strings as is).
    """

    name: str
    coef: dict[str, float]
    se: dict[str, float] = field(default_factory=dict)
    pvalue: dict[str, float] = field(default_factory=dict)
    stats: dict[str, float | int | str] = field(default_factory=dict)

    @classmethod
    def from_did(
        cls,
        result: Any,
        *,
        name: str | None = None,
        term: str = "treated_post",
        stats: Sequence[str] = ("n_obs", "n_units"),
    ) -> ModelColumn:
        """Read an :class:`agglomera.policy.DIDResult` as a one-coefficient column.

        Parameters
        ----------
        result : DIDResult
            Its ``att``, ``se`` and ``pvalue`` become the coefficient row.
        name : str, optional
            Model name; default ``meta["estimator_label"]``, else the estimator's short name.
        term : str, default "treated_post"
            Key of the coefficient. The default key is labelled "Treated × Post" /
            "试点城市 × 政策后" by :meth:`Table.regression`; override the label with
            ``coef_names={"treated_post": ...}``.
        stats : sequence of str, default ("n_obs", "n_units")
            Keys of ``result.meta`` copied into :attr:`stats` when present (also
            ``"pretrend_pvalue"``, read from the result).

        Returns
        -------
        ModelColumn
        """
        meta = dict(getattr(result, "meta", {}) or {})
        label_ = name or meta.get("estimator_label") or meta.get("estimator") or ""
        values: dict[str, float | int | str] = {}
        for key in stats:
            if key == "pretrend_pvalue":
                values[key] = float(result.pretrend_pvalue)
            elif meta.get(key) is not None:
                values[key] = meta[key]
        return cls(
            name=str(label_),
            coef={term: float(result.att)},
            se={term: float(result.se)},
            pvalue={term: float(result.pvalue)},
            stats=values,
        )

    @classmethod
    def from_any(cls, model: Any, name: str | None = None) -> ModelColumn:
        """Build a column from a ModelColumn, a DIDResult, a mapping or a fitted model.

        Parameters
        ----------
        model : object
            * a :class:`ModelColumn` (returned, renamed when ``name`` is given);
            * an :class:`agglomera.policy.DIDResult` (see :meth:`from_did`);
            * a mapping with ``coef`` (or ``params``), ``se`` (or ``bse``), ``pvalue`` (or
              ``pvalues``), ``stats`` and ``name`` keys;
            * a fitted model with ``params``/``coef``, ``bse``/``std_errors``/``se`` and
              ``pvalues``/``pvalue`` attributes or methods (statsmodels, linearmodels,
              pyfixest); ``nobs``/``_N`` and ``rsquared``/``_r2`` become ``n_obs``/``r2``.
        name : str, optional
            Model name.

        Returns
        -------
        ModelColumn
        """
        if isinstance(model, ModelColumn):
            return (
                model
                if name is None
                else cls(name, model.coef, model.se, model.pvalue, model.stats)
            )
        if hasattr(model, "att") and hasattr(model, "event_study"):
            return cls.from_did(model, name=name)
        if isinstance(model, Mapping):
            coef = model.get("coef", model.get("params"))
            if coef is None:
                raise SpecError(
                    "a model mapping needs a 'coef' entry (term → estimate); got keys "
                    f"{format_examples(model.keys())}."
                )
            return cls(
                name=str(name if name is not None else model.get("name", "")),
                coef=_floats(_mapping(coef, "coef")),
                se=_floats(_mapping(model.get("se", model.get("bse")), "se")),
                pvalue=_floats(_mapping(model.get("pvalue", model.get("pvalues")), "pvalue")),
                stats=dict(_mapping(model.get("stats"), "stats")),
            )
        coef = _attr(model, ("params", "coef"))
        if coef is None:
            raise SpecError(
                f"cannot read a regression column from a {type(model).__name__}: pass a "
                "ModelColumn, a DIDResult, a mapping with 'coef'/'se'/'pvalue' or a fitted "
                "model with params/bse/pvalues."
            )
        stats_: dict[str, float | int | str] = {}
        n_obs = _attr(model, ("nobs", "_N"))
        if n_obs is not None:
            stats_["n_obs"] = int(n_obs)
        r2 = _attr(model, ("rsquared", "_r2"))
        if r2 is not None:
            stats_["r2"] = float(r2)
        return cls(
            name=str(name or ""),
            coef=_floats(_mapping(coef, "params")),
            se=_floats(_mapping(_attr(model, ("bse", "std_errors", "se")), "se")),
            pvalue=_floats(_mapping(_attr(model, ("pvalues", "pvalue")), "pvalues")),
            stats=stats_,
        )


def _floats(values: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items()}
