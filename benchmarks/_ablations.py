"""RLSampler with one part removed or replaced, to measure what each part is worth.

Each variant is a sampler name the benchmark scripts accept like Optuna's samplers, e.g.::

    python benchmarks/bbob.py --samplers RLSampler RL-no-surrogate RL-surrogate-only \
        --out benchmarks/results/ablation

| variant | what changes |
|---|---|
| ``RL-uniform-moves`` | no learned choice: a move drawn uniformly every trial (epsilon 1) |
| ``RL-greedy`` | no exploration: always the move of highest Q-value (epsilon 0) |
| ``RL-no-prior`` | the Q-table starts at zeros instead of the shipped prior |
| ``RL-no-surrogate`` | the surrogate (local GP expected improvement) move is never chosen |
| ``RL-surrogate-only`` | only the surrogate move: local GP Bayesian optimisation, no choice |
| ``RL-random-startup`` | the start-up trials are uniform random instead of scrambled Sobol' |
| ``RL-frozen`` | no in-study learning: the shipped table, never updated, and uniform
exploration steps (no Thompson draws on the moves' results) |
| ``RL-frozen-q`` | the shipped table, never updated; the exploration steps still learn (Thompson
draws on the moves' latest results in the study) |
| ``RL-state-blind`` | no state and no learning: every state's row is the shipped table's mean row,
never updated (a fixed mixture of moves) |
| ``RL-one-state`` | no state, but learning: one state, starting from the shipped table's mean
row, updated by the study's results |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
from optuna.samplers import BaseSampler

from optuna_rl import RLSampler
from optuna_rl._sampler_study import SamplerStudy
from optuna_rl.core.agent import Agent
from optuna_rl.core.agent import Transition
from optuna_rl.core.agent import Undo
from optuna_rl.sampling.design import SobolDesign
from optuna_rl.sampling.learner import SearchLearner
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.policy import Proposal
from optuna_rl.sampling.prior import load_prior
from optuna_rl.sampling.space import NormalisedSpace
from optuna_rl.sampling.state import N_STATES
from optuna_rl.sampling.state import Progress


class _MaskedRLSampler(RLSampler):
    """RLSampler restricted to the moves ``keep`` accepts (all moves if none is available)."""

    def __init__(self, keep: Callable[[str], bool], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._keep = np.array([keep(action.name) for action in ACTIONS])

    def _allowed_actions(self, n_elites: int, space: NormalisedSpace) -> np.ndarray:
        allowed = super()._allowed_actions(n_elites, space)
        narrowed = allowed & self._keep
        return narrowed if narrowed.any() else allowed


class _FrozenAgent(Agent):
    """An agent whose Q-values never change. It still counts its experience, so that its
    exploration decays on the same schedule as the learning agent's (the schedule runs on the
    number of updates): the only difference left is the learning itself. Built without
    ``success_reward`` it also records no outcomes, and explores uniformly; with it, its
    exploration steps still learn from the moves' results."""

    def update(self, transition: Transition) -> Undo:
        s, a = transition.state, transition.action
        self.visits[s, a] += 1
        undo_outcome = self.record_outcome(a, transition.reward)

        def undo() -> None:
            undo_outcome()
            self.visits[s, a] -= 1

        return undo


class _FrozenRLSampler(RLSampler):
    """RLSampler whose agent keeps its initial table for the whole study (and, unless
    ``learn_exploration``, explores uniformly)."""

    def __init__(self, *, learn_exploration: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._learn_exploration = learn_exploration

    def _new_study_cache(self, study: optuna.Study) -> SamplerStudy:
        cache = super()._new_study_cache(study)
        agent = cache.learner.agent
        frozen = _FrozenAgent(
            agent.n_states,
            agent.n_actions,
            agent.learning_rate,
            agent.discount,
            agent.q,
            agent.success_reward if self._learn_exploration else None,
        )
        cache.learner.agent = frozen
        return cache


class _OneStateLearner(SearchLearner):
    """A learner for which every situation is the same state."""

    def state_of(self, progress: Progress) -> int:
        return 0


class _OneStateRLSampler(RLSampler):
    """RLSampler whose agent sees one state: it learns which moves pay, not when."""

    def _new_study_cache(self, study: optuna.Study) -> SamplerStudy:
        cache = super()._new_study_cache(study)
        cache.learner.__class__ = _OneStateLearner
        return cache


def frozen_sampler(**kwargs: Any) -> RLSampler:
    """An RLSampler that never updates its initial table (arguments as RLSampler's)."""
    return _FrozenRLSampler(**kwargs)


class _RandomStartupRLSampler(RLSampler):
    """RLSampler whose start-up trials are uniform random points."""

    def _startup(self, design: SobolDesign, space: NormalisedSpace, number: int) -> Proposal:
        proposal = super()._startup(design, space, number)
        rng = np.random.default_rng((self._base_seed, number))
        u = rng.random(space.n_numeric + space.n_categorical)
        return proposal._replace(point=space.from_unit_cube(u))


ABLATIONS: dict[str, Callable[[int], BaseSampler]] = {
    "RL-uniform-moves": lambda seed: RLSampler(seed=seed, epsilon_start=1.0, epsilon_end=1.0),
    "RL-greedy": lambda seed: RLSampler(seed=seed, epsilon_start=0.0, epsilon_end=0.0),
    "RL-no-prior": lambda seed: RLSampler(
        seed=seed, initial_q_table=np.zeros((N_STATES, len(ACTIONS)))
    ),
    "RL-no-surrogate": lambda seed: _MaskedRLSampler(lambda name: name != "surrogate", seed=seed),
    "RL-surrogate-only": lambda seed: _MaskedRLSampler(
        lambda name: name == "surrogate", seed=seed
    ),
    "RL-random-startup": lambda seed: _RandomStartupRLSampler(seed=seed),
    "RL-frozen": lambda seed: _FrozenRLSampler(seed=seed),
    "RL-frozen-q": lambda seed: _FrozenRLSampler(seed=seed, learn_exploration=True),
    "RL-one-state": lambda seed: _OneStateRLSampler(
        seed=seed, initial_q_table=np.broadcast_to(load_prior().mean(0), load_prior().shape)
    ),
    "RL-state-blind": lambda seed: _FrozenRLSampler(
        seed=seed, initial_q_table=np.broadcast_to(load_prior().mean(0), load_prior().shape)
    ),
}
"""Variant name -> factory taking the run's seed."""
