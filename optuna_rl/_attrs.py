"""Every attribute key optuna-rl writes on a trial, and the layout of what is stored there.

System attrs are the truth the agent is rebuilt from; user attrs are a readable copy for
optuna-dashboard, which shows user attrs but not system attrs. Nothing is ever read back from
user attrs.
"""

from __future__ import annotations


FORMAT_VERSION = 1
"""Version of the decision layout below; decisions of another version are history only."""

PREFIX = "rl:"

DECISION_KEY = PREFIX + "decision"
"""System attr written by :class:`~optuna_rl.RLSampler` when it samples a trial.

Layout (a JSON object, kept small because it is written on every trial)::

    {"v": 1,            # FORMAT_VERSION
     "s": 7,            # state index the agent saw (-1 for a start-up trial)
     "a": 3,            # action index it took (-1 for a start-up trial)
     "e": 0,            # 1 if the action was an exploration step, else 0
     "k": 0.05,         # step size in the normalised space after the action
     "n": 12,           # number of the anchor trial, or -1 (prior, start-up design)
     "t": 40}           # number of the trial it was written on; a copy on another trial
                        # (Optuna's retry callbacks copy system attrs) is ignored
"""

USER_STATE = "rl_state"
"""User attr: the state the agent saw, in words (e.g. ``improving, step large, last good``)."""

USER_ACTION = "rl_action"
"""User attr: the name of the move the agent chose (e.g. ``shrink``, ``startup``)."""

USER_ANCHOR = "rl_anchor_trial"
"""User attr: number of the trial the move started from; absent for prior or start-up moves."""

USER_STEP = "rl_step_size"
"""User attr: step size in the normalised [0, 1] space after the action (a float, sortable)."""

USER_EXPLORED = "rl_explored"
"""User attr: ``True`` if the action was a random exploration step, ``False`` if greedy."""

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
