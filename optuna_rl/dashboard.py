"""The learned policy in optuna-dashboard: a Markdown summary kept in the study's note.

optuna-dashboard shows a study's note (Markdown) on the study's Note page.
:func:`write_policy_note` writes there a small table of the sampler's agent's policy (per state:
how often it was visited, the greedy move, its Q-value and how often that move was taken there)
and of how often each move was taken. Only the section between two invisible markers (see
``NOTE_BEGIN`` and ``NOTE_END`` in the package's attribute declarations) is ours; the rest of the
note is kept.

Writing the note is the user's choice: pass :class:`PolicyNoteCallback` to
``study.optimize(callbacks=...)`` to refresh it every few trials while the study runs, or call
:func:`write_policy_note` when you like. optuna-dashboard is an optional dependency; without it
nothing is written.

Example:

    .. code-block:: python

        import optuna
        from optuna_rl import RLSampler
        from optuna_rl.dashboard import PolicyNoteCallback
        from optuna_rl.dashboard import write_policy_note

        sampler = RLSampler(seed=0)
        study = optuna.create_study(sampler=sampler, storage="sqlite:///study.db")
        study.optimize(
            lambda t: t.suggest_float("x", -5, 5) ** 2,
            n_trials=60,
            callbacks=[PolicyNoteCallback()],
        )
        write_policy_note(study, sampler)  # the final policy, not the one of trial 50
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import numpy as np
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

from optuna_rl import _attrs
from optuna_rl import _compat
from optuna_rl._logging import get_logger
from optuna_rl._trials import recorded_decision
from optuna_rl._validation import check_int
from optuna_rl.sampler import RLSampler
from optuna_rl.sampler import check_rebuilder
from optuna_rl.sampler import rebuilder
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.moves import available_actions
from optuna_rl.sampling.state import describe_state


if TYPE_CHECKING:
    from types import ModuleType

    from optuna.study import Study
    from optuna.trial import FrozenTrial

    from optuna_rl.core.agent import Agent


__all__ = ["PolicyNoteCallback", "write_policy_note"]

_logger = get_logger(__name__)

NOTE_INTERVAL = 10
"""By default :class:`PolicyNoteCallback` refreshes the note after the trials whose number is a
multiple of this (when the agent chose the trial's move): a note write is a few storage round
trips."""


def note_due(trial: FrozenTrial, interval: int = NOTE_INTERVAL) -> bool:
    """Whether the note is refreshed after ``trial``: a cheap check on the trial alone. Trial
    numbers decide, so exactly one worker writes the note per interval, whatever the workers."""
    if trial.number == 0 or trial.number % interval != 0:
        return False
    decision = recorded_decision(trial)
    return decision is not None and decision.by_agent


class PolicyNoteCallback:
    """A ``study.optimize`` callback that keeps the learned policy in the study's note.

    After every ``interval``-th trial (by trial number) whose move the agent chose, it rewrites
    the policy section of the note (:func:`write_policy_note`). A failure is logged, never
    raised: the note is only a view and must not stop the study.

    Example:

        .. code-block:: python

            import optuna
            from optuna_rl import RLSampler
            from optuna_rl.dashboard import PolicyNoteCallback

            study = optuna.create_study(sampler=RLSampler(seed=0), storage="sqlite:///s.db")
            study.optimize(
                lambda t: t.suggest_float("x", -5, 5) ** 2,
                n_trials=100,
                callbacks=[PolicyNoteCallback()],
            )

    Args:
        interval: Refresh after trials whose number is a multiple of this (at least 1).
        sampler: The :class:`~optuna_rl.RLSampler` whose agent is summarised; defaults to the
            study's sampler.

    Raises:
        ValueError: If ``interval`` is below 1.
        TypeError: If ``interval`` is not an int or ``sampler`` not an RLSampler.
    """

    def __init__(self, interval: int = NOTE_INTERVAL, sampler: RLSampler | None = None) -> None:
        self._interval = check_int("interval", interval, minimum=1)
        self._sampler = check_rebuilder(sampler)

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        if not note_due(trial, self._interval):
            return
        try:
            write_policy_note(study, self._sampler)
        except Exception as exc:
            _logger.warning(f"Could not update the optuna-rl policy note of the study: {exc!r}")


def write_policy_note(study: Study, sampler: RLSampler | None = None) -> bool:
    """Write (or rewrite) the policy section of the study's optuna-dashboard note.

    Does nothing, silently, if optuna-dashboard is not installed or the agent has learned
    nothing yet.

    Args:
        study: The study; its note is read and written through its storage.
        sampler: The :class:`~optuna_rl.RLSampler` whose agent is summarised; defaults to the
            study's sampler if it is one, else ``RLSampler()`` (the default learning settings).

    Returns:
        Whether the note was written (``False`` if unchanged or nothing to write).

    Raises:
        TypeError: If ``study`` is not a study or ``sampler`` not an RLSampler.
    """
    chosen = rebuilder(study, sampler)
    note_module = _optional_note_module()
    if note_module is None:
        return False
    agent = chosen.agent_for(study)
    if agent.n_updates == 0:
        return False
    old = note_module.get_note(study)
    new = replace_section(old, policy_markdown(agent, available_moves(study)))
    if new == old:
        return False
    note_module.save_note(study, new)
    return True


def policy_markdown(agent: Agent, available: np.ndarray | None = None) -> str:
    """The policy section: a Markdown table of the greedy move in each state and one of the
    moves taken, between the markers.

    Args:
        agent: The agent to summarise.
        available: Boolean mask of the moves the study's search space allows (the greedy move
            is chosen among them); all moves if :obj:`None`.
    """
    allowed = np.ones(agent.n_actions, dtype=bool) if available is None else available
    taken = agent.visits.sum(axis=0)
    lines = [
        _attrs.NOTE_BEGIN,
        "",
        "### optuna-rl: learned policy",
        "",
        f"The Q-learning agent after {agent.n_updates} of its moves in this study. Q is the "
        "expected reward of a move, from -1 to 1, paid by the rank of its result; Q starts "
        "from the sampler's initial table (by default one learned offline) and each result "
        "here updates it. Outside exploration, the agent takes the greedy move: the available "
        "move of highest Q.",
        "",
        "| state | visits | greedy move | Q | its visits |",
        "|---|---:|---|---:|---:|",
    ]
    for state in range(agent.n_states):
        action = int(np.argmax(np.where(allowed, agent.q[state], -np.inf)))
        lines.append(
            f"| {describe_state(state)} | {int(agent.visits[state].sum())} "
            f"| {ACTIONS[action].name} | {agent.q[state, action]:.3f} "
            f"| {int(agent.visits[state, action])} |"
        )
    lines += ["", "| move | taken | share |", "|---|---:|---:|"]
    for action in np.argsort(-taken, kind="stable"):
        if taken[action] > 0:
            share = taken[action] / agent.n_updates
            lines.append(f"| {ACTIONS[action].name} | {int(taken[action])} | {share:.0%} |")
    lines += ["", _attrs.NOTE_END]
    return "\n".join(lines)


def available_moves(study: Study) -> np.ndarray:
    """Boolean mask of the moves the study's search space allows, judged from the parameters of
    its latest completed trial (all moves if none has completed)."""
    completed = _compat.get_trials(study, states=(TrialState.COMPLETE,), fresh=True)
    if not completed:
        return np.ones(len(ACTIONS), dtype=bool)
    distributions = [d for d in completed[-1].distributions.values() if not d.single()]
    n_categorical = sum(isinstance(d, CategoricalDistribution) for d in distributions)
    n_elites = max(action.min_elites for action in ACTIONS)
    return available_actions(n_elites, len(distributions) - n_categorical, n_categorical)


def replace_section(note: str, section: str) -> str:
    """``note`` with its policy section replaced by ``section`` (appended if it has none)."""
    begin = note.find(_attrs.NOTE_BEGIN)
    end = note.find(_attrs.NOTE_END, begin)
    if begin >= 0 and end >= 0:
        return note[:begin] + section + note[end + len(_attrs.NOTE_END) :]
    if not note.strip():
        return section
    return note.rstrip("\n") + "\n\n" + section


def _optional_note_module() -> ModuleType | None:
    try:
        return importlib.import_module("optuna_dashboard")
    except ImportError:
        return None
