"""Every attribute key optuna-rl writes on a trial or a study, and the layout of what is
stored there.

System attrs are the truth the agents are rebuilt from; user attrs are a readable copy for
optuna-dashboard, which shows user attrs but not system attrs. Nothing is ever read back from
user attrs.

Each attr write is a storage round trip (an RDB transaction), the scaling cost with many
workers, so each agent writes one readable line per trial: the sampler two writes per trial
(:data:`DECISION_KEY` and :data:`USER_SAMPLER`; one for a trial it did not sample), the pruner
one write per change of its decision (:data:`USER_PRUNER`).
"""

from __future__ import annotations

import math
from typing import Any

from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.results import STARTUP
from optuna_rl.sampling.results import Decision
from optuna_rl.sampling.state import describe_state


FORMAT_VERSION = 2
"""Version of the decision layout below; decisions of another version are history only.
2: the state's third feature is the model's lead (:mod:`optuna_rl.sampling.lead`); under 1 it
was the last result's quality, so those state indices would teach the wrong entries."""

PREFIX = "rl:"

DECISION_KEY = PREFIX + "decision"
"""System attr written by :class:`~optuna_rl.RLSampler` when it samples a trial's parameters
(start-up design or agent; not when the independent sampler or ``enqueue_trial`` chose them).

Layout (a JSON object, kept small because it is written on every trial)::

    {"v": 2,            # FORMAT_VERSION
     "s": 7,            # state index the agent saw (-1 for a start-up trial)
     "a": 3,            # action index it took (-1 for a start-up trial)
     "e": 0,            # 1 if the action was an exploration step, else 0
     "k": 0.05,         # step size in the normalised space after the action
     "n": 12,           # number of the anchor trial, or -1 (a restart, the start-up design)
     "t": 40}           # number of the trial it was written on; a copy on another trial
                        # (Optuna's retry callbacks copy system attrs) is ignored
"""


class InvalidDecision(ValueError):
    """A decision of this format version that is malformed (a corrupted storage)."""


def decision_attr(decision: Decision, number: int | None = None) -> dict[str, Any]:
    """The stored form of ``decision``, to be written on trial ``number`` (without the number,
    the decision is read as its own wherever it is written)."""
    attr: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "s": decision.state,
        "a": decision.action,
        "e": int(decision.explored),
        "k": decision.step_size,
        "n": decision.anchor,
    }
    if number is not None:
        attr["t"] = number
    return attr


def parse_decision(raw: Any, number: int, n_states: int, n_actions: int) -> Decision | None:
    """The decision stored on trial ``number``; ``None`` if there is none, it is of another
    version, or it names another trial: Optuna's retry callbacks copy a failed trial's system
    attrs onto its retry, which is history (its parameters were not the agent's move for it).

    Raises:
        InvalidDecision: If it is of this version but malformed.
    """
    if not isinstance(raw, dict) or raw.get("v") != FORMAT_VERSION:
        return None
    if "t" in raw and raw["t"] != number:
        return None
    try:
        decision = Decision(
            int(raw["s"]), int(raw["a"]), bool(raw["e"]), float(raw["k"]), int(raw["n"])
        )
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidDecision(str(exc)) from exc
    in_range = -1 <= decision.state < n_states and STARTUP <= decision.action < n_actions
    if not in_range or (decision.state < 0) != (decision.action < 0):
        raise InvalidDecision(f"state or action out of range in {raw!r}")
    if not math.isfinite(decision.step_size) or decision.step_size <= 0.0:
        raise InvalidDecision(f"step size out of range in {raw!r}")
    return decision


USER_SAMPLER = "rl_sampler"
"""User attr written by :class:`~optuna_rl.RLSampler` on every trial: who chose the trial's
parameters and why, in one line (one storage write; the truth is :data:`DECISION_KEY`). Its
first word is who chose them: the name of the agent's move, ``startup``, ``independent`` or
``enqueued``. The text (see :func:`sampler_summary`), e.g.::

    shrink from trial 12 (greedy), step 0.05; state: stalling, step medium, model ahead
    restart (explored), step 0.1; state: stagnant, step small, model behind
    startup design
    independent sampler (RandomSampler): no relative search space yet
    enqueued

A move names the trial it started from (none for a restart), whether it was the greedy choice
or a random exploration step, the step size in the normalised [0, 1] space after it, and the
state the agent saw. The wording may change between releases; the key and the first word do
not.
"""

STARTUP_SUMMARY = "startup design"
"""``rl_sampler`` of a trial whose parameters came from the start-up design."""

ENQUEUED_SUMMARY = "enqueued"
"""``rl_sampler`` of a trial whose values were given before it started (``study.enqueue_trial``,
or a waiting trial added with its parameters, as ``RetryFailedTrialCallback`` retries one)."""


def independent_summary(sampler_name: str) -> str:
    """``rl_sampler`` of a trial sampled by the independent sampler ``sampler_name`` because
    there was no relative search space yet."""
    return f"independent sampler ({sampler_name}): no relative search space yet"


def sampler_summary(decision: Decision) -> str:
    """The readable ``rl_sampler`` text of a decision (see :data:`USER_SAMPLER`)."""
    if not decision.by_agent:
        return STARTUP_SUMMARY
    move = ACTIONS[decision.action].name
    anchor = f" from trial {decision.anchor}" if decision.anchor >= 0 else ""
    mode = "explored" if decision.explored else "greedy"
    return (
        f"{move}{anchor} ({mode}), step {decision.step_size:.3g}; "
        f"state: {describe_state(decision.state)}"
    )


USER_PRUNER = "rl_pruner"
"""User attr written by :class:`~optuna_rl.RLPruner` at a pruning check whose decision, reason
or state differs from the last one written (always when it prunes), overwriting it, e.g.
``"step 12: prune (higher Q-value); state: ...; Q(continue)=..., Q(prune)=..."``. On a
pruned trial it is the reason it was stopped."""

NOTE_BEGIN = '[//]: # "optuna-rl policy: begin"'
NOTE_END = '[//]: # "optuna-rl policy: end"'
"""Markdown comments (never rendered) around the section of the study's optuna-dashboard note
that :mod:`optuna_rl.dashboard` writes: a summary of the learned policy. optuna-dashboard stores
the note in study system attrs ``dashboard:note_ver`` and ``dashboard:note_str:<i>``; text outside
the markers is the user's and is kept when the section is rewritten."""
