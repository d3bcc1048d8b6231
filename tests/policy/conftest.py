"""Shared fixtures of the policy tests: the prefecture-level example panel and its design."""

from __future__ import annotations

import warnings

import pytest

from agglomera import datasets, policy


@pytest.fixture(scope="session")
def example():
    """The simulated innovative-city panel (prefecture scope, seed 0) with its truth."""
    return datasets.innovative_city("prefecture", seed=0)


@pytest.fixture(scope="session")
def design(example) -> policy.TreatmentDesign:
    """Its design from the `treat_year` column (the singleton-cohort warning silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return policy.design(example.panel, cohort="treat_year")
