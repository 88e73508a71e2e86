"""The edge between a study's trials and the agents: what a frozen trial means to them, and
where each study's cached learning lives.

Both agents keep, per study, a cache that is rebuilt from the trials when missing (the study is
the state). :class:`StudyCaches` holds them by storage and study; a sampler or pruner drops it
on pickling and rebuilds it from storage where it arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import datetime
import math
import threading
from typing import TYPE_CHECKING
from typing import Generic
from typing import Protocol
from typing import TypeVar
import weakref

from optuna.study import StudyDirection
from optuna.trial import TrialState

from optuna_rl import _attrs
from optuna_rl import _compat
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.results import COMPLETED
from optuna_rl.sampling.results import INFEASIBLE
from optuna_rl.sampling.results import PRUNED
from optuna_rl.sampling.results import PRUNED_WITHOUT_VALUE
from optuna_rl.sampling.results import Decision
from optuna_rl.sampling.results import ParetoKey
from optuna_rl.sampling.results import RankKey
from optuna_rl.sampling.results import total_violation
from optuna_rl.sampling.state import N_STATES


if TYPE_CHECKING:
    from optuna.storages import BaseStorage
    from optuna.study import Study
    from optuna.trial import FrozenTrial


def direction_sign(study: Study) -> float:
    """1.0 if the study minimises, -1.0 if it maximises: signed values are smaller-is-better."""
    return 1.0 if study.direction == StudyDirection.MINIMIZE else -1.0


def direction_signs(study: Study) -> tuple[float, ...]:
    """:func:`direction_sign` of each objective."""
    return tuple(1.0 if d == StudyDirection.MINIMIZE else -1.0 for d in study.directions)


def violation(trial: FrozenTrial) -> float:
    """The total violation of the constraints Optuna recorded on the trial (``set_constraint``
    or a ``constraints_func``); 0 if it is feasible or has none."""
    return total_violation(list(trial.constraints.values()))


def rank_key(trial: FrozenTrial, sign: float) -> RankKey | None:
    """How a finished trial's result ranks in a single-objective study; ``None`` for a failed
    trial or a NaN value."""
    if trial.state == TrialState.COMPLETE and trial.values is not None:
        value = sign * trial.values[0]
        if math.isnan(value):
            return None
        violated = violation(trial)
        if violated > 0:
            return RankKey(INFEASIBLE, violated, value)
        return RankKey(COMPLETED, 0.0, value)
    if trial.state == TrialState.PRUNED:
        if trial.intermediate_values:
            last_step = max(trial.intermediate_values)
            value = sign * trial.intermediate_values[last_step]
            if not math.isnan(value):
                return RankKey(PRUNED, -float(last_step), value)
        return RankKey(PRUNED_WITHOUT_VALUE, 0.0, 0.0)
    return None


def pareto_key(trial: FrozenTrial, signs: Sequence[float]) -> ParetoKey | None:
    """How a finished trial's result ranks in a multi-objective study; ``None`` for a failed
    trial or a NaN value."""
    if trial.state == TrialState.COMPLETE and trial.values is not None:
        values = tuple(s * v for s, v in zip(signs, trial.values, strict=True))
        if any(math.isnan(v) for v in values):
            return None
        violated = violation(trial)
        group = INFEASIBLE if violated > 0 else COMPLETED
        return ParetoKey(group, violated if violated > 0 else 0.0, values)
    if trial.state == TrialState.PRUNED:
        return ParetoKey(PRUNED_WITHOUT_VALUE, 0.0, ())
    return None


def result_key(trial: FrozenTrial, signs: Sequence[float]) -> RankKey | ParetoKey | None:
    """:func:`rank_key` or :func:`pareto_key`, by the number of objectives."""
    return rank_key(trial, signs[0]) if len(signs) == 1 else pareto_key(trial, signs)


def parse_decision(trial: FrozenTrial) -> Decision | None:
    """The decision RLSampler recorded on ``trial`` for itself (see
    :func:`optuna_rl._attrs.parse_decision`).

    Raises:
        optuna_rl._attrs.InvalidDecision: If it is malformed.
    """
    return _attrs.parse_decision(
        trial.system_attrs.get(_attrs.DECISION_KEY), trial.number, N_STATES, len(ACTIONS)
    )


def recorded_decision(trial: FrozenTrial) -> Decision | None:
    """:func:`parse_decision`, with malformed decisions read as none: the views skip them
    silently (the sampler warns about them when it replays the study)."""
    try:
        return parse_decision(trial)
    except _attrs.InvalidDecision:
        return None


def is_finished(trial: FrozenTrial) -> bool:
    return trial.state.is_finished()


def started(trial: FrozenTrial) -> datetime.datetime | None:
    """When the trial started (``None`` while it waits): never changes once set, so the first
    trial's start tells a study from another that reuses its ids."""
    return trial.datetime_start


class _Cache(Protocol):
    def continues(self, trials: Sequence[FrozenTrial]) -> bool: ...


C = TypeVar("C", bound=_Cache)


class StudyCaches(Generic[C]):
    """One cache per (storage, study), made by ``factory`` and remade when the study's trials no
    longer continue the ones it has seen (a study deleted and created again under the same id).

    Args:
        factory: Makes a fresh cache for a study.
    """

    def __init__(self, factory: Callable[[Study], C]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._caches: weakref.WeakKeyDictionary[BaseStorage, dict[int, C]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, study: Study, trials: Sequence[FrozenTrial]) -> C:
        """The cache of ``study``, whose trials are ``trials``."""
        with self._lock:
            per_study = self._caches.setdefault(_compat.get_storage(study), {})
            study_id = _compat.get_study_id(study)
            cache = per_study.get(study_id)
            if cache is None or not cache.continues(trials):
                cache = per_study[study_id] = self._factory(study)
            return cache
