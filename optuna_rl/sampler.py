"""RLSampler: Optuna glue around the Q-learning agent, the history replay and the moves."""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple
import weakref

import numpy as np
import optuna
from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import StudyDirection
from optuna.trial import TrialState

from optuna_rl import _attrs
from optuna_rl import _compat
from optuna_rl._validation import check_bool
from optuna_rl._validation import check_float
from optuna_rl._validation import check_int
from optuna_rl._validation import check_seed
from optuna_rl.agent import Agent
from optuna_rl.agent import LinearSchedule
from optuna_rl.design import SobolDesign
from optuna_rl.history import Decision
from optuna_rl.history import Replay
from optuna_rl.history import Snapshot
from optuna_rl.moves import ACTIONS
from optuna_rl.moves import INITIAL_STEP_SIZE
from optuna_rl.moves import MoveContext
from optuna_rl.moves import available_actions
from optuna_rl.moves import scaled_step_size
from optuna_rl.moves import surrogate_step
from optuna_rl.prior import load_prior
from optuna_rl.space import Point
from optuna_rl.space import SearchSpace
from optuna_rl.state import N_STATES
from optuna_rl.state import describe_state
from optuna_rl.state import state_index
from optuna_rl.surrogate import features


if TYPE_CHECKING:
    from collections.abc import Sequence

    from optuna.distributions import BaseDistribution
    from optuna.storages import BaseStorage
    from optuna.study import Study
    from optuna.trial import FrozenTrial


_logger = optuna.logging.get_logger(__name__)

_RESTART_INDEX = next(i for i, action in enumerate(ACTIONS) if action.name == "restart")
_RESTART = ACTIONS[_RESTART_INDEX]
_MAX_PROPOSALS = 8
"""Proposals a move gets to avoid duplicates; then as many restarts, then the last proposal
stands (the space may have no unevaluated configuration left)."""
_MIN_NEIGHBOURS = 120
_NEIGHBOURS_PER_DIM = 8
"""The model-guided move fits the completed trials nearest to its anchor: this many per numeric
dimension, at least _MIN_NEIGHBOURS."""
_PENDING_TOLERANCE = 0.1
"""A proposal closer than this many step sizes to a running trial's point is a near-duplicate."""


class _Proposal(NamedTuple):
    point: Point
    decision: Decision


def _features(point: Point, space: SearchSpace) -> np.ndarray:
    return features(point.numeric[None, :], point.categorical[None, :], space.n_choices)[0]


class _StudyCache:
    """What the sampler caches of one study: the replay, and the trials encoded in the current
    search space (encoding is the costly part of reading them), with the coordinates and values
    of the completed ones in fold order and the keys of their points. All of it is rebuilt from
    the trials when missing."""

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        self.space_key = ""
        self.points: dict[int, Point | None] = {}
        self.rows: list[np.ndarray] = []
        self.values: list[float] = []
        self.n_scanned = 0
        self.evaluated: set[bytes] = set()

    def use_space(self, space: SearchSpace) -> None:
        key = repr(sorted(space.distributions.items()))
        if key != self.space_key:
            self.space_key, self.points = key, {}
            self.rows, self.values, self.n_scanned = [], [], 0
            self.evaluated = set()

    def evaluated_points(
        self,
        space: SearchSpace,
        trials: Sequence[FrozenTrial],
        completed_past_prefix: list[tuple[int, float]],
    ) -> tuple[set[bytes], set[bytes]]:
        """The :func:`_point_key` of every completed trial: those of the folded prefix (kept,
        and extended as it grows) and those of the few completed past it (for this call)."""
        self._scan(space, trials)
        past = {
            _point_key(point)
            for number, _ in completed_past_prefix
            if (point := self.point(space, trials, number)) is not None
        }
        return self.evaluated, past

    def point(
        self, space: SearchSpace, trials: Sequence[FrozenTrial], number: int
    ) -> Point | None:
        """Trial ``number`` encoded in ``space``; ``None`` if it lacks a value there."""
        if number not in self.points:
            params = _trial_by_number(trials, number).params
            self.points[number] = space.encode(params) if space.contains(params) else None
        return self.points[number]

    def observed(
        self,
        space: SearchSpace,
        trials: Sequence[FrozenTrial],
        completed_past_prefix: list[tuple[int, float]],
        centre: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The completed trials nearest to ``centre``: coordinates and signed values.

        The replay's folded completed trials only grow, so each is encoded once; the few
        completed past the folded prefix are added for this call only."""
        self._scan(space, trials)
        rows, values = list(self.rows), list(self.values)
        for number, value in completed_past_prefix:
            self._add_row(space, trials, number, value, rows, values)
        if not rows:
            return np.zeros((0, space.n_numeric + int(space.n_choices.sum()))), np.zeros(0)
        x_all, y_all = np.array(rows), np.array(values)
        n_params = space.n_numeric + space.n_categorical
        n_near = min(len(y_all), max(_MIN_NEIGHBOURS, _NEIGHBOURS_PER_DIM * n_params))
        nearest = np.argsort(((x_all - centre) ** 2).sum(1), kind="stable")[:n_near]
        return x_all[nearest], y_all[nearest]

    def _scan(self, space: SearchSpace, trials: Sequence[FrozenTrial]) -> None:
        """Take in the replay's newly folded completed trials (that list only grows, so each
        is encoded once): the key of its point, and its features and value if finite."""
        folded = self.replay.completed
        for number, value in folded[self.n_scanned :]:
            point = self.point(space, trials, number)
            if point is not None:
                self.evaluated.add(_point_key(point))
                if math.isfinite(value):
                    self.rows.append(_features(point, space))
                    self.values.append(value)
        self.n_scanned = len(folded)

    def _add_row(
        self,
        space: SearchSpace,
        trials: Sequence[FrozenTrial],
        number: int,
        value: float,
        rows: list[np.ndarray],
        values: list[float],
    ) -> None:
        point = self.point(space, trials, number)
        if point is not None and math.isfinite(value):
            rows.append(_features(point, space))
            values.append(value)


class RLSampler(BaseSampler):
    """Sampler whose moves are chosen by a tabular Q-learning agent.

    Each trial's parameters come from one *move* in a normalised search space (every numeric
    parameter scaled to [0, 1], log scale for ``log=True``; categorical parameters as choices): a
    Gaussian step around the best trial, a step around another elite, a step after growing or
    shrinking the step size, a coordinate move, a move along the line through two elites,
    differential crossover, recombination of the elites, a resample of the categorical values
    from their elite frequencies, or a restart from the prior. A Q-learning agent (`Watkins &
    Dayan, 1992 <https://doi.org/10.1007/BF00992698>`__) picks the move from the *state* of the
    history, binned from how long the best value has stagnated, the current step size and the
    rank of the last result; it is paid by the rank of the result it produced, so rewards do not
    depend on the objective's scale or direction.

    The study is the agent's only memory: each decision is written on its trial as a system
    attr (and, readably, as user attrs ``rl_state``, ``rl_action``, ``rl_anchor_trial``,
    ``rl_step_size`` and ``rl_explored`` that optuna-dashboard shows), and the Q-table is rebuilt
    from the trials, incrementally. The same sampler therefore works with many workers on one
    storage, after a restart, and on a study another sampler began (its trials are history).

    The first ``n_startup_trials`` trials follow a scrambled Sobol' design. Parameters outside
    the intersection search space of the finished trials (conditional or dynamic spaces) are
    sampled by ``independent_sampler``.

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
            and the trial number, so a seeded sequential study is reproducible.
        n_startup_trials:
            The agent starts once the study has this many completed trials; before, parameters
            come from the start-up design.
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
            Probability of a random (exploration) action when the agent has no experience,
            in [0, 1].
        epsilon_end:
            Probability of a random action after ``epsilon_decay_trials`` updates, in [0, 1].
        epsilon_decay_trials:
            Number of agent updates over which the exploration probability goes linearly from
            ``epsilon_start`` to ``epsilon_end``.
        initial_q_table:
            The Q-table (``n_states x n_actions``) the agent starts from in every study. By
            default, the table shipped with the package, learned offline on synthetic functions
            by ``benchmarks/train_prior.py``; pass ``numpy.zeros(...)`` for an agent that starts
            knowing nothing. The study's trials then update it.

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
        learning_rate: float = 0.2,
        discount: float = 0.5,
        epsilon_start: float = 0.3,
        epsilon_end: float = 0.05,
        epsilon_decay_trials: int = 100,
        initial_q_table: np.ndarray | None = None,
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
        self._rng = _compat.LazyRandomState(seed)
        self._base_seed = seed if seed is not None else self._fresh_seed()
        self._design = SobolDesign(self._base_seed)
        self._search_space = IntersectionSearchSpace(include_pruned=True)
        self._caches: weakref.WeakKeyDictionary[BaseStorage, dict[int, _StudyCache]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.RLock()

    def _fresh_seed(self) -> int:
        return int(self._rng.rng.randint(2**31))

    def reseed_rng(self) -> None:
        self._rng.rng.seed()
        self._base_seed = self._fresh_seed()
        self._design = SobolDesign(self._base_seed)
        self._independent_sampler.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        self._raise_error_if_multi_objective(study)
        with self._lock:
            space = self._search_space.calculate(study)
        return {name: dist for name, dist in sorted(space.items()) if not dist.single()}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        self._raise_error_if_multi_objective(study)
        if not search_space:
            return {}
        space = SearchSpace(search_space)
        trials = _compat.get_trials(study)
        rng = np.random.default_rng([self._base_seed, trial.number])
        with self._lock:
            cache = self._study_cache(study, trials)
            replay = cache.replay
            snapshot = replay.snapshot(trials, n_top=_n_top(len(replay.ranks)))
            cache.use_space(space)
            elites = [
                (number, point)
                for _, number in snapshot.ranked
                if (point := cache.point(space, trials, number)) is not None
            ]
            if snapshot.n_completed < self._n_startup_trials or not elites:
                proposal = self._startup(space, trial.number)
            else:
                proposal = self._act(cache, rng, space, snapshot, elites, trials, trial)
        params = space.decode(proposal.point)
        # Values fixed by `enqueue_trial` override part of the move: such a trial is history,
        # not the outcome of the agent's action, so its decision is not recorded.
        if not set(trial.system_attrs.get("fixed_params", {})) & set(search_space):
            self._record(study, trial, proposal.decision)
        return params

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        self._raise_error_if_multi_objective(study)
        if self._warn_independent_sampling:
            finished = _compat.get_trials(study, states=(TrialState.COMPLETE, TrialState.PRUNED))
            n_completed = sum(t.state == TrialState.COMPLETE for t in finished)
            # Warn only for a parameter earlier trials had: a new parameter is no fallback.
            if n_completed >= self._n_startup_trials and any(
                param_name in t.params for t in finished
            ):
                self._log_independent_sampling(trial, param_name)
        return self._independent_sampler.sample_independent(
            study, trial, param_name, param_distribution
        )

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._independent_sampler.before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        # Nothing to learn here: rewards are computed when the history is replayed.
        self._independent_sampler.after_trial(study, trial, state, values)
        # Every 10th agent trial refreshes the policy summary in the optuna-dashboard note; the
        # import is local because the dashboard module builds on this one.
        from optuna_rl.dashboard import update_policy_note

        update_policy_note(study, self, trial)

    def agent_for(self, study: Study) -> Agent:
        """The agent as rebuilt from the study's trials (a copy).

        It has folded in, in trial-number order, every trial up to the first one that is still
        running; see :mod:`optuna_rl.history` for what that means with several workers.

        Args:
            study: The study to read.

        Returns:
            A copy of the agent, whose ``q`` attribute is the Q-table (states x actions).
        """
        self._raise_error_if_multi_objective(study)
        with self._lock:
            trials = _compat.get_trials(study, fresh=True)
            return self._study_cache(study, trials).replay.agent.copy()

    def _study_cache(self, study: Study, trials: Sequence[FrozenTrial]) -> _StudyCache:
        storage = _compat.get_storage(study)
        per_study = self._caches.setdefault(storage, {})
        study_id = _compat.get_study_id(study)
        cache = per_study.get(study_id)
        if cache is None or not cache.replay.is_prefix_of(trials):
            sign = 1.0 if study.direction == StudyDirection.MINIMIZE else -1.0
            agent = Agent(N_STATES, len(ACTIONS), self._learning_rate, self._discount)
            agent.q[:] = self._initial_q
            cache = per_study[study_id] = _StudyCache(Replay(agent, sign))
        cache.replay.fold(trials)
        return cache

    def _startup(self, space: SearchSpace, number: int) -> _Proposal:
        u = self._design.point(space.n_numeric + space.n_categorical, number)
        decision = Decision(-1, -1, False, INITIAL_STEP_SIZE, -1)
        return _Proposal(space.from_unit_cube(u), decision)

    def _allowed_actions(self, n_elites: int, space: SearchSpace) -> np.ndarray:
        """Mask of the moves the agent may choose now (the benchmarks' ablations narrow it)."""
        return available_actions(n_elites, space.n_numeric, space.n_categorical)

    def _act(
        self,
        cache: _StudyCache,
        rng: np.random.Generator,
        space: SearchSpace,
        snapshot: Snapshot,
        elites: list[tuple[int, Point]],
        trials: Sequence[FrozenTrial],
        trial: FrozenTrial,
    ) -> _Proposal:
        agent = cache.replay.agent
        state = state_index(snapshot.progress)
        allowed = self._allowed_actions(len(elites), space)
        epsilon = self._epsilon(agent.n_updates)
        action_index, explored = agent.act(state, rng, epsilon, allowed)
        action = ACTIONS[action_index]
        step_size = scaled_step_size(snapshot.progress.step_size, action.step_factor)
        if action.anchor == "elite":
            anchor_number, anchor = elites[1 + int(rng.integers(len(elites) - 1))]
        else:
            anchor_number, anchor = elites[0]
        if action.anchor == "prior":
            anchor_number = -1
        points = [point for _, point in elites]
        pending = _pending_points(space, trials[cache.replay.n_folded :], trial.number)
        observed_x, observed_y = np.zeros((0, 0)), np.zeros(0)
        if action.move is surrogate_step:
            observed_x, observed_y = cache.observed(
                space, trials, snapshot.completed_past_prefix, _features(anchor, space)
            )
        evaluated, evaluated_past = cache.evaluated_points(
            space, trials, snapshot.completed_past_prefix
        )
        proposal_step = step_size
        growth = (1.0 / step_size) ** (1.0 / (_MAX_PROPOSALS - 1))

        def is_new(point: Point) -> bool:
            # Never again a configuration a trial has completed (on int, step and categorical
            # grids, moves often land on one), nor one close to a running trial's.
            key = _point_key(point)
            return (
                key not in evaluated
                and key not in evaluated_past
                and not _is_duplicate(point, pending, _PENDING_TOLERANCE * step_size)
            )

        for _ in range(_MAX_PROPOSALS):
            context = MoveContext(
                points,
                proposal_step,
                space.n_choices,
                observed_x,
                observed_y,
                space.snap_numeric,
            )
            point = space.snap(action.move(rng, anchor, context))
            if is_new(point):
                break
            # Grow the step (by at least 1.5) so that the last attempt is a full-size step: with
            # a tiny step a categorical value would hardly ever change.
            proposal_step = min(1.0, proposal_step * max(1.5, growth))
        else:
            # The move keeps landing on evaluated configurations (moves built from the elites
            # repeat once the elites agree): restart from a uniform point instead, and record
            # that, so the agent learns from what was done.
            for _ in range(_MAX_PROPOSALS):
                point = space.snap(_RESTART.move(rng, anchor, context))
                if is_new(point):
                    action_index, anchor_number = _RESTART_INDEX, -1
                    break
        decision = Decision(state, action_index, explored, step_size, anchor_number)
        return _Proposal(point, decision)

    def _record(self, study: Study, trial: FrozenTrial, decision: Decision) -> None:
        _compat.set_trial_system_attr(
            study, trial, _attrs.DECISION_KEY, decision.to_attr(trial.number)
        )
        startup = decision.action < 0
        user_attrs: dict[str, Any] = {
            _attrs.USER_STATE: "start-up design" if startup else describe_state(decision.state),
            _attrs.USER_ACTION: "startup" if startup else ACTIONS[decision.action].name,
            _attrs.USER_STEP: round(decision.step_size, 6),
            _attrs.USER_EXPLORED: decision.explored,
        }
        if decision.anchor >= 0:
            user_attrs[_attrs.USER_ANCHOR] = decision.anchor
        for key, value in user_attrs.items():
            _compat.set_trial_user_attr(study, trial, key, value)

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
    shape = (N_STATES, len(ACTIONS))
    try:
        q = np.array(table, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"`initial_q_table` must be None or an array of shape {shape}, got {table!r}."
        ) from exc
    if q.shape != shape or not np.all(np.isfinite(q)):
        raise ValueError(
            f"`initial_q_table` must have shape {shape} and finite values, got shape {q.shape}."
        )
    return q


def _n_top(n_results: int) -> int:
    """How many of the best results count as elites: a fifth of the results, from 3 to 20."""
    return int(min(20, max(3, math.ceil(n_results / 5))))


def _trial_by_number(trials: Sequence[FrozenTrial], number: int) -> FrozenTrial:
    if number < len(trials) and trials[number].number == number:
        return trials[number]
    return next(t for t in trials if t.number == number)


def _pending_points(
    space: SearchSpace, trials: Sequence[FrozenTrial], own_number: int
) -> list[Point]:
    """Points of the other running trials that already have every parameter of ``space``."""
    return [
        space.encode(t.params)
        for t in trials
        if t.state == TrialState.RUNNING and t.number != own_number and space.contains(t.params)
    ]


def _point_key(point: Point) -> bytes:
    """Equal for equal snapped points: encoding the same parameters gives the same floats."""
    return point.numeric.tobytes() + b"|" + point.categorical.astype(np.int64).tobytes()


def _is_duplicate(point: Point, others: list[Point], tolerance: float) -> bool:
    for other in others:
        if np.array_equal(point.categorical, other.categorical) and (
            point.numeric.size == 0
            or float(np.max(np.abs(point.numeric - other.numeric))) <= tolerance
        ):
            return True
    return False
