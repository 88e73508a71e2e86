"""RLSampler: the Optuna glue around the sampler's agent (:mod:`optuna_rl.sampling`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from typing import Any
import zlib

import numpy as np
from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler
from optuna.trial import TrialState

from optuna_rl import _attrs
from optuna_rl import _compat
from optuna_rl import _trials
from optuna_rl._logging import get_logger
from optuna_rl._sampler_study import SamplerStudy
from optuna_rl._search_space import SearchSpace
from optuna_rl._validation import check_bool
from optuna_rl._validation import check_float
from optuna_rl._validation import check_int
from optuna_rl._validation import check_q_table
from optuna_rl._validation import check_seed
from optuna_rl._validation import check_study
from optuna_rl.core.agent import Agent
from optuna_rl.core.agent import LinearSchedule
from optuna_rl.sampling import policy
from optuna_rl.sampling.design import SobolDesign
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.moves import available_actions
from optuna_rl.sampling.prior import load_prior
from optuna_rl.sampling.rankings import random_weights
from optuna_rl.sampling.rewards import SUCCESS_REWARD
from optuna_rl.sampling.state import N_STATES


if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Sequence

    from optuna.distributions import BaseDistribution
    from optuna.study import Study
    from optuna.trial import FrozenTrial

    from optuna_rl.sampling.results import Decision
    from optuna_rl.sampling.space import NormalisedSpace


_logger = get_logger(__name__)


class RLSampler(BaseSampler):
    """Sampler whose moves are chosen by a tabular Q-learning agent.

    Each trial's parameters come from one *move* in a normalised search space (every numeric
    parameter scaled to [0, 1], log scale for ``log=True``; categorical parameters as choices):
    the model-guided move (the point of highest expected improvement under a Gaussian process
    fitted to the ranks of the completed trials nearest the best one, in the metric of the best
    of them), a Gaussian step around
    the best trial or another elite, a step after growing or shrinking the step size, a
    coordinate move, a move along the line through two elites, differential crossover,
    recombination of the elites, a resample of the categorical values from their elite
    frequencies, or a uniform restart. A Q-learning agent (`Watkins & Dayan, 1992
    <https://doi.org/10.1007/BF00992698>`__) picks the move from the *state* of the history,
    binned from how long the best value has stagnated, the current step size and whether the
    model-guided move's recent results have been good at least as often as the other moves'
    (the model's lead); it is paid by the rank of the result it produced, so rewards do not
    depend on the objective's scale or direction. It starts from a Q-table learned offline on
    synthetic functions, and each study's results update it; its exploration steps are Thompson
    draws on each move's latest results, so they turn to the moves that pay on this objective.
    The state steers: on held-out BBOB problems the sampler beats the same table averaged over
    its states on 72% of the problems. In-study learning pays at long budgets (at 1,000 trials
    the sampler beats its frozen self on 79% of held-out BBOB problems) and adds nothing
    measurable within about a hundred trials (the ablations are in the project's README).

    Multi-objective studies and constraints are supported. With several objectives a result is
    better than another when it dominates it (Pareto), and each trial draws a random direction
    along the front (ParEGO's augmented Chebyshev scalarisation of the objectives' rank
    quantiles; `Knowles, 2006 <https://doi.org/10.1109/TEVC.2005.851274>`__) that orders the
    elites and the model's data, so successive trials work on different parts of the front.
    Constraints set with :meth:`optuna.trial.Trial.set_constraint` (or the deprecated
    ``constraints_func``) rank feasible results first and infeasible ones after them by their
    total violation (`Deb et al., 2002 <https://doi.org/10.1109/4235.996017>`__), in the
    rewards, the elites and the model alike: an infeasible trial never anchors a move while a
    feasible one exists.

    The study is the agent's only memory: each decision is written on its trial as a system
    attr, and in words as the user attr ``rl_sampler`` that optuna-dashboard shows (e.g.
    ``"shrink from trial 12 (greedy), step 0.05; state: stalling, step medium, model ahead"``;
    its first word says who chose the parameters: a move, ``startup``, ``independent`` or
    ``enqueued``), two storage writes per trial; the Q-table is rebuilt from the trials,
    incrementally. The same sampler therefore works with many workers on one
    storage, after a restart, on a study another sampler began (its trials are history), after
    being pickled (to a Dask worker, say), and for several studies at once.

    The first ``n_startup_trials`` results (completed or pruned trials) follow a scrambled
    Sobol' design. Parameters outside the intersection search space of the finished trials
    (conditional or dynamic spaces) are sampled by ``independent_sampler``.

    Example:

        .. testcode::

            import optuna
            from optuna_rl import RLSampler


            def objective(trial):
                x = trial.suggest_float("x", -10, 10)
                y = trial.suggest_int("y", -5, 5)
                return x**2 + y**2


            study = optuna.create_study(sampler=RLSampler(seed=0))
            study.optimize(objective, n_trials=50)

    Args:
        seed:
            Seed for the random number generators. Per-trial randomness is derived from the seed
            and the trial number, so a seeded sequential study is reproducible. Unseeded, the
            start-up design is still the same for every worker of a study (it is scrambled by
            the study's name), so workers take different points of one design.
        n_startup_trials:
            The agent starts once the study has this many results (completed or pruned trials);
            before, parameters come from the start-up design.
        independent_sampler:
            Sampler for parameters outside the relative search space. Defaults to
            :class:`~optuna.samplers.RandomSampler` with the same seed.
        warn_independent_sampling:
            If :obj:`True`, log a warning when a parameter that earlier trials had is sampled by
            ``independent_sampler`` (a dynamic or conditional search space). Warnings are not
            issued during start-up.
        learning_rate:
            Step size ``alpha`` of the Q-learning update, in (0, 1].
        discount:
            Discount factor ``gamma`` of future rewards, in [0, 1).
        epsilon_start:
            Probability of an exploration step when the agent has no experience, in [0, 1].
            An exploration step is not a uniform choice: each allowed move's share of good
            results (a new best, or a result in the best quarter so far) among its latest 10
            within the study's latest 50 gets a Beta posterior, and the move of the largest
            Thompson draw is taken; a move untried for 50 results is drawn as if new.
        epsilon_end:
            Probability of an exploration step after ``epsilon_decay_trials`` updates, in
            [0, 1].
        epsilon_decay_trials:
            Number of agent updates over which the exploration probability goes linearly from
            ``epsilon_start`` to ``epsilon_end``.
        initial_q_table:
            The Q-table (``n_states x n_actions``) the agent starts from in every study. By
            default, the table shipped with the package, learned offline on synthetic functions
            by ``benchmarks/train_prior.py``; pass ``numpy.zeros(...)`` for an agent that starts
            knowing nothing. The study's trials then update it.
        constraints_func:
            Deprecated (as in Optuna's samplers since 5.0): use
            :meth:`optuna.trial.Trial.set_constraint`, which RLSampler reads by itself. A
            function of a finished trial returning its constraint values (feasible at 0 or
            below), stored on the trial after it finishes.

    Raises:
        ValueError: If a numeric argument is out of its range.
        TypeError: If an argument has the wrong type.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        n_startup_trials: int = 10,
        independent_sampler: BaseSampler | None = None,
        warn_independent_sampling: bool = True,
        learning_rate: float = 0.05,
        discount: float = 0.5,
        epsilon_start: float = 0.3,
        epsilon_end: float = 0.05,
        epsilon_decay_trials: int = 100,
        initial_q_table: np.ndarray | None = None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
    ) -> None:
        self._seed = check_seed(seed)
        self._n_startup_trials = check_int("n_startup_trials", n_startup_trials, minimum=0)
        if independent_sampler is not None and not isinstance(independent_sampler, BaseSampler):
            raise TypeError(
                "`independent_sampler` must be None or an optuna.samplers.BaseSampler, got "
                f"{independent_sampler!r} of type {type(independent_sampler).__name__}."
            )
        self._independent_sampler = independent_sampler or RandomSampler(seed=seed)
        self._warn_independent_sampling = check_bool(
            "warn_independent_sampling", warn_independent_sampling
        )
        self._learning_rate = check_float(
            "learning_rate", learning_rate, low=0.0, high=1.0, low_open=True
        )
        self._discount = check_float("discount", discount, low=0.0, high=1.0, high_open=True)
        self._epsilon = LinearSchedule(
            check_float("epsilon_start", epsilon_start, low=0.0, high=1.0),
            check_float("epsilon_end", epsilon_end, low=0.0, high=1.0),
            check_int("epsilon_decay_trials", epsilon_decay_trials, minimum=0),
        )
        self._initial_q = _check_q_table(initial_q_table)
        if constraints_func is not None:
            if not callable(constraints_func):
                raise TypeError(
                    "`constraints_func` must be None or a callable taking a FrozenTrial, got "
                    f"{constraints_func!r}."
                )
            _compat.warn_constraints_func_deprecated()
        self._constraints_func = constraints_func
        self._rng = _compat.LazyRandomState(seed)
        self._base_seed = seed if seed is not None else self._fresh_seed()
        self._caches = _trials.StudyCaches(self._new_study_cache)

    def __getstate__(self) -> dict[str, Any]:
        # The caches (and their locks) stay behind: they are rebuilt from storage.
        state = self.__dict__.copy()
        del state["_caches"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._caches = _trials.StudyCaches(self._new_study_cache)

    def _fresh_seed(self) -> int:
        return int(self._rng.rng.randint(2**31))

    def reseed_rng(self) -> None:
        # Optuna reseeds before every trial with n_jobs > 1. The start-up design keeps its seed:
        # a new scrambling per trial would turn its points into random ones.
        self._rng.rng.seed()
        self._base_seed = self._fresh_seed()
        self._independent_sampler.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        trials = _compat.get_trials(study)
        cache = self._caches.get(study, trials)
        with cache.lock:
            cache.sync(trials)
            space = cache.intersection or {}
        return {name: dist for name, dist in sorted(space.items()) if not dist.single()}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        fixed = _compat.fixed_param_names(trial)
        if not search_space:
            if not fixed:  # An enqueued trial is labelled as such in `before_trial`.
                self._label(study, trial, "independent")
            return {}
        space = SearchSpace(search_space)
        trials = _compat.get_trials(study)
        cache = self._caches.get(study, trials)
        rng = np.random.default_rng([self._base_seed, trial.number])
        with cache.lock:
            # Only what must be consistent is read under the lock; the proposal (the Gaussian
            # process's fit included) runs outside it, so threads of n_jobs > 1 overlap.
            cache.sync(trials)
            learner = cache.learner
            weights = self._front_direction(study, trial)
            elites = cache.elites(space, _n_top(learner.n_results), weights)
            agent_starts = learner.n_results >= self._n_startup_trials and elites
            if agent_starts:
                step_size = cache.newest_step_size(trials)
                situation = policy.Situation(
                    learner.state_of(learner.progress._replace(step_size=step_size)),
                    step_size,
                    elites,
                )
                agent = learner.agent.copy()
                observations = cache.observations(space, weights)
                pending = cache.pending_points(space, trials, trial.number)
        if agent_starts:
            proposal = policy.propose(
                agent,
                situation,
                space.normalised,
                observations,
                pending,
                rng,
                epsilon=self._epsilon(agent.n_updates),
                allowed=self._allowed_actions(len(elites), space.normalised),
                snap=space.snap,
            )
        else:
            proposal = self._startup(cache.design, space.normalised, trial.number)
        # Values fixed by `enqueue_trial` override part of the move: such a trial is history,
        # not the outcome of the agent's action, so its decision is not recorded (the trial is
        # labelled "enqueued" in `before_trial`).
        if not fixed & set(search_space):
            self._record(study, trial, proposal.decision)
        return space.decode(proposal.point)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        if self._warn_independent_sampling:
            finished = _compat.get_trials(study, states=(TrialState.COMPLETE, TrialState.PRUNED))
            # Warn only for a parameter earlier trials had: a new parameter is no fallback.
            if len(finished) >= self._n_startup_trials and any(
                param_name in t.params for t in finished
            ):
                self._log_independent_sampling(trial, param_name)
        return self._independent_sampler.sample_independent(
            study, trial, param_name, param_distribution
        )

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        # An enqueued trial may never ask the sampler (when every value is fixed); it still says
        # who chose its parameters. So does a trial added with its parameters set (a retry of a
        # failed trial by RetryFailedTrialCallback, which also copies that trial's attrs).
        if _compat.fixed_param_names(trial) or trial.params:
            self._label(study, trial, "enqueued")
        self._independent_sampler.before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        # Nothing to learn here: rewards are computed when the history is replayed. Constraints
        # from the deprecated `constraints_func` are stored as Optuna's samplers store them,
        # before the trial's state: the replay then finds them on the finished trial.
        if self._constraints_func is not None:
            _compat.process_constraints_after_trial(self._constraints_func, study, trial, state)
        self._independent_sampler.after_trial(study, trial, state, values)

    def agent_for(self, study: Study) -> Agent:
        """The agent as rebuilt from the study's trials (a copy).

        It has folded in, in trial-number order, every finished trial (see
        :mod:`optuna_rl.core.fold` for what that means with several workers).

        Args:
            study: The study to read.

        Returns:
            A copy of the agent, whose ``q`` attribute is the Q-table (states x actions).
        """
        trials = _compat.get_trials(study, fresh=True)
        cache = self._caches.get(study, trials)
        with cache.lock:
            cache.sync(trials)
            return cache.learner.agent.copy()

    def _front_direction(self, study: Study, trial: FrozenTrial) -> np.ndarray | None:
        """With several objectives, this trial's random direction along the front (its own
        stream, so that single-objective studies draw exactly as before)."""
        n_objectives = len(study.directions)
        if n_objectives == 1:
            return None
        rng = np.random.default_rng([self._base_seed, trial.number, n_objectives])
        return random_weights(rng, n_objectives)

    def _new_study_cache(self, study: Study) -> SamplerStudy:
        agent = Agent(
            N_STATES,
            len(ACTIONS),
            self._learning_rate,
            self._discount,
            self._initial_q,
            success_reward=SUCCESS_REWARD,
        )
        design_seed = self._seed if self._seed is not None else _name_seed(study.study_name)
        return SamplerStudy(agent, _trials.direction_signs(study), SobolDesign(design_seed))

    def _startup(
        self, design: SobolDesign, space: NormalisedSpace, number: int
    ) -> policy.Proposal:
        """The start-up proposal (the benchmarks' ablations replace it)."""
        return policy.startup(design, space, number)

    def _allowed_actions(self, n_elites: int, space: NormalisedSpace) -> np.ndarray:
        """Mask of the moves the agent may choose now (the benchmarks' ablations narrow it)."""
        return available_actions(n_elites, space.n_numeric, space.n_categorical)

    def _record(self, study: Study, trial: FrozenTrial, decision: Decision) -> None:
        # Two storage writes: the decision (the truth) and its one readable line.
        _compat.set_trial_system_attr(
            study, trial, _attrs.DECISION_KEY, _attrs.decision_attr(decision, trial.number)
        )
        _compat.set_trial_user_attr(
            study, trial, _attrs.USER_SAMPLER, _attrs.sampler_summary(decision)
        )

    def _label(self, study: Study, trial: FrozenTrial, who: str) -> None:
        """Say who chose the trial's parameters when the agent did not (``who`` is
        ``"independent"`` or ``"enqueued"``)."""
        if who == "independent":
            summary = _attrs.independent_summary(type(self._independent_sampler).__name__)
        else:
            summary = _attrs.ENQUEUED_SUMMARY
        _compat.set_trial_user_attr(study, trial, _attrs.USER_SAMPLER, summary)

    def _log_independent_sampling(self, trial: FrozenTrial, param_name: str) -> None:
        _logger.warning(
            _compat.INDEPENDENT_SAMPLING_WARNING_TEMPLATE.format(
                param_name=param_name,
                trial_number=trial.number,
                independent_sampler_name=self._independent_sampler.__class__.__name__,
                sampler_name=self.__class__.__name__,
                fallback_reason=(
                    "the parameter is not in the intersection search space of the finished "
                    "trials (a dynamic or conditional search space)"
                ),
            )
        )


def _check_q_table(table: Any) -> np.ndarray:
    if table is None:
        return load_prior()
    return check_q_table(table, (N_STATES, len(ACTIONS)))


def _n_top(n_results: int) -> int:
    """How many of the best results count as elites: a fifth of the results, from 3 to 20."""
    return int(min(20, max(3, math.ceil(n_results / 5))))


def _name_seed(study_name: str) -> int:
    """A seed every process derives alike from the study's name (``hash`` is salted per
    process)."""
    return zlib.crc32(study_name.encode())


def check_rebuilder(sampler: Any) -> RLSampler | None:
    """``sampler`` as the argument that rebuilds a study's agent: None or an RLSampler."""
    if sampler is not None and not isinstance(sampler, RLSampler):
        raise TypeError(
            f"`sampler` must be None or an RLSampler, got {sampler!r} of type "
            f"{type(sampler).__name__}."
        )
    return sampler


def rebuilder(study: Any, sampler: RLSampler | None) -> RLSampler:
    """The RLSampler whose settings rebuild ``study``'s agent: ``sampler`` if given, else the
    study's own sampler if it is an RLSampler, else ``RLSampler()``."""
    check_study(study)
    chosen = check_rebuilder(sampler)
    if chosen is not None:
        return chosen
    if isinstance(study.sampler, RLSampler):
        return study.sampler
    return RLSampler()
