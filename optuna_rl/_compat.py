"""The only module that touches Optuna's private API, so an Optuna upgrade touches one file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optuna._deprecated import _DEPRECATION_WARNING_TEMPLATE
from optuna._transform import _SearchSpaceTransform as SearchSpaceTransform
from optuna._typing import JSONSerializable
from optuna._warnings import optuna_warn
from optuna.pruners._percentile import _is_first_in_interval_step as is_first_in_interval_step
from optuna.samplers._base import _INDEPENDENT_SAMPLING_WARNING_TEMPLATE
from optuna.samplers._base import _process_constraints_after_trial
from optuna.samplers._lazy_random_state import LazyRandomState


if TYPE_CHECKING:
    from collections.abc import Container

    from optuna.distributions import BaseDistribution
    from optuna.storages import BaseStorage
    from optuna.study import Study
    from optuna.trial import FrozenTrial
    from optuna.trial import TrialState


__all__ = [
    "INDEPENDENT_SAMPLING_WARNING_TEMPLATE",
    "distribution_contains",
    "fixed_param_names",
    "JSONSerializable",
    "LazyRandomState",
    "SearchSpaceTransform",
    "get_storage",
    "get_study_id",
    "get_trials",
    "is_first_in_interval_step",
    "is_multi_objective",
    "process_constraints_after_trial",
    "warn_constraints_func_deprecated",
    "set_trial_system_attr",
    "set_trial_user_attr",
    "trial_id",
]

INDEPENDENT_SAMPLING_WARNING_TEMPLATE = _INDEPENDENT_SAMPLING_WARNING_TEMPLATE


def get_trials(
    study: Study, states: Container[TrialState] | None = None, *, fresh: bool = False
) -> list[FrozenTrial]:
    """All trials of the study without copies.

    By default through the per-thread cache Optuna's TPE uses while it samples a trial; Optuna
    clears that cache only in ``ask`` and ``tell``, so anything read outside sampling (or during
    a long trial, as a pruner does) must pass ``fresh=True`` to see what other workers did.
    Works on the bracket study that ``HyperbandPruner`` hands to samplers as well.
    """
    return study._get_trials(deepcopy=False, states=states, use_cache=not fresh)


def get_storage(study: Study) -> BaseStorage:
    return study._storage


def get_study_id(study: Study) -> int:
    return study._study_id


def set_trial_system_attr(
    study: Study, trial: FrozenTrial, key: str, value: JSONSerializable
) -> None:
    study._storage.set_trial_system_attr(trial._trial_id, key, value)


def set_trial_user_attr(
    study: Study, trial: FrozenTrial, key: str, value: JSONSerializable
) -> None:
    study._storage.set_trial_user_attr(trial._trial_id, key, value)


def trial_id(trial: FrozenTrial) -> int:
    return trial._trial_id


def is_multi_objective(study: Study) -> bool:
    return study._is_multi_objective()


def distribution_contains(distribution: BaseDistribution, value: object) -> bool:
    """Whether the external ``value`` lies in ``distribution`` (a value of another type does
    not)."""
    try:
        return bool(distribution._contains(distribution.to_internal_repr(value)))
    except (ValueError, TypeError):
        return False


def fixed_param_names(trial: FrozenTrial) -> set[str]:
    """The parameters ``study.enqueue_trial`` fixed on ``trial`` (Optuna keeps them in the
    ``fixed_params`` system attr; ``suggest_*`` returns them without asking the sampler)."""
    return set(trial.system_attrs.get("fixed_params", {}))


process_constraints_after_trial = _process_constraints_after_trial
"""Stores ``constraints_func(trial)`` in the trial's system attrs, as Optuna's samplers do."""


def warn_constraints_func_deprecated() -> None:
    """The FutureWarning Optuna's samplers give for ``constraints_func`` since 5.0."""
    message = _DEPRECATION_WARNING_TEMPLATE.format(
        name="`constraints_func`", d_ver="5.0.0", r_ver="7.0.0"
    )
    optuna_warn(f"{message} Use `optuna.trial.Trial.set_constraint` instead.", FutureWarning)
