"""Optuna's sampler conformance kit, run against RLSampler in several configurations."""

from __future__ import annotations

from collections.abc import Callable

import optuna
from optuna.samplers import BaseSampler
from optuna.testing.pytest_samplers import BasicSamplerTestCase
from optuna.testing.pytest_samplers import MultiObjectiveSamplerTestCase
from optuna.testing.pytest_samplers import RelativeSamplerTestCase
import pytest

from optuna_rl import RLSampler


_CONFIGURATIONS: dict[str, Callable[[], BaseSampler]] = {
    "default": lambda: RLSampler(seed=0),
    "no-startup": lambda: RLSampler(n_startup_trials=0, seed=1),
    "always-explore": lambda: RLSampler(
        n_startup_trials=0, epsilon_start=1.0, epsilon_end=1.0, seed=2
    ),
    "always-explore-unseeded": lambda: RLSampler(
        n_startup_trials=0, epsilon_start=1.0, epsilon_end=1.0
    ),
    "greedy-fast-learner": lambda: RLSampler(
        n_startup_trials=2,
        learning_rate=1.0,
        discount=0.0,
        epsilon_start=0.0,
        epsilon_end=0.0,
        epsilon_decay_trials=0,
        seed=4,
    ),
    "tpe-independent": lambda: RLSampler(
        n_startup_trials=3, independent_sampler=optuna.samplers.TPESampler(seed=0), seed=5
    ),
}


class TestRLSamplerConformance(
    BasicSamplerTestCase, RelativeSamplerTestCase, MultiObjectiveSamplerTestCase
):
    @pytest.fixture(params=list(_CONFIGURATIONS.values()), ids=list(_CONFIGURATIONS))
    def sampler(self, request: pytest.FixtureRequest) -> Callable[[], BaseSampler]:
        return request.param
