"""Figures return matplotlib Figures with the expected artists (numbers are tested elsewhere)."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from agglomera import describe
from agglomera.describe import figures


def test_ranking_bump_and_fallback_labels(bay, monkeypatch):
    monkeypatch.setattr(figures, "cjk_font", lambda: None)
    fig = figures.ranking_bump(bay, "ht_rd_exp")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == len(bay.units)
    assert ax.get_title() == "Ranking by ht_rd_exp"
    assert ax.yaxis_inverted()
    labels = {t.get_text() for t in ax.texts}
    assert "Hangzhou" in labels  # no CJK font: English names from the reference table
    top = figures.ranking_bump(bay, "ht_rd_exp", top=2, title="Top")
    ranks = describe.rankings(bay, "ht_rd_exp", top=2)
    assert len(top.axes[0].get_lines()) == ranks["adcode"].nunique()


def test_cjk_font_is_used_when_available(bay, monkeypatch):
    monkeypatch.setattr(figures, "cjk_font", lambda: "DejaVu Sans")
    fig = figures.ranking_bump(bay, "ht_rd_exp")
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert "杭州" in texts  # Chinese names when a CJK font is registered
    assert fig.axes[0].title.get_fontfamily()[0] == "DejaVu Sans"


def test_regional_paths(cities):
    fig = figures.regional_paths(cities, "talent_lq")
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["central", "east", "west"]
    assert ax.get_title() == "talent_lq by region3"


def test_density_ridges(cities):
    fig = figures.density_ridges(cities, "talent_lq", times=[2003, 2010, 2019])
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3
    assert len(ax.collections) == 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2003", "2010", "2019"]


def test_markov_heatmap(cities):
    res = describe.markov(cities, "talent_lq", classes=4)
    fig = figures.markov_heatmap(res, title="Quantile classes")
    ax = fig.axes[0]
    assert len(ax.images) == 1
    assert len(ax.texts) == int((res.probabilities.to_numpy() > 0).sum())  # zeros hidden
    full = figures.markov_heatmap(res, hide_zeros=False)
    assert len(full.axes[0].texts) == 16
    assert ax.get_title() == "Quantile classes"
    assert len(fig.axes) == 2  # heat map + colour bar


def test_cjk_font_returns_name_or_none():
    name = figures.cjk_font()
    assert name is None or isinstance(name, str)
