"""Replaying the trials of a study into the agent's experience, incrementally.

What "the same agent" means
---------------------------
The agent is a deterministic function of the study's trials: the Q-table after folding, in
trial-number order, the longest prefix of trials that are all finished (complete, pruned or
failed). A trial still running (or waiting) stops the fold; the trials after it wait until it
finishes, so the result never depends on which worker finished first. A worker that dies leaves
its trial running until Optuna's heartbeat fails it; until then learning waits, sampling does not.

Each folded trial that carries a decision of this format (see :mod:`optuna_rl._attrs`) gives one
transition: the state and action it recorded when it was sampled, a reward from the rank of its
result among the results before it, and the state of the history right after it. Trials without
a decision (start-up trials, other samplers' trials, enqueued trials) are history only: they move
the ranks and the progress summary but teach the agent nothing.

Rewards are scale free (the rank of a result, never a raw difference), so the same agent works
for objectives from 1e-9 to 1e9, minimised or maximised.
"""

from __future__ import annotations

from bisect import bisect_left
from bisect import bisect_right
from bisect import insort
import math
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple
import warnings

from optuna.trial import TrialState

from optuna_rl import _attrs
from optuna_rl._compat import trial_id
from optuna_rl.agent import Agent
from optuna_rl.agent import Transition
from optuna_rl.moves import ACTIONS
from optuna_rl.moves import INITIAL_STEP_SIZE
from optuna_rl.state import N_STATES
from optuna_rl.state import Progress
from optuna_rl.state import state_index


if TYPE_CHECKING:
    from collections.abc import Sequence

    from optuna.trial import FrozenTrial


RankKey = tuple[int, float, float]
"""Sort key of a result, smaller is better: ``(group, -last_step, signed value)``.

Group 0 holds completed trials ranked by value, group 1 pruned trials ranked by how far they got
and then by their last intermediate value (the order Optuna's TPE ranks them in), group 2 pruned
trials that reported nothing usable. Values are negated for maximisation.
"""

FAILED_REWARD = -1.0
MIN_IMPROVEMENT_REWARD = 0.25


def _improvement(previous_best: RankKey, key: RankKey) -> float:
    """How much ``key`` improves on ``previous_best``; infinite across groups (e.g. the first
    completed trial after pruned ones) or from an infinite value."""
    if previous_best[0] != key[0] or previous_best[1] != key[1]:
        return math.inf
    gain = previous_best[2] - key[2]
    return math.inf if math.isnan(gain) else gain


class Decision(NamedTuple):
    """What the sampler recorded on a trial when it sampled it."""

    state: int
    action: int
    explored: bool
    step_size: float
    anchor: int

    def to_attr(self, number: int | None = None) -> dict[str, Any]:
        """The stored form; ``number`` is the trial it is written on."""
        attr: dict[str, Any] = {
            "v": _attrs.FORMAT_VERSION,
            "s": self.state,
            "a": self.action,
            "e": int(self.explored),
            "k": self.step_size,
            "n": self.anchor,
        }
        if number is not None:
            attr["t"] = number
        return attr


class _InvalidDecision(Exception):
    pass


def _parse_decision(
    raw: Any, n_states: int, n_actions: int, number: int | None = None
) -> Decision | None:
    """The decision stored on trial ``number``; ``None`` if there is none, it is of another
    version, or it names another trial: Optuna's retry callbacks copy a failed trial's system
    attrs onto its retry, which is history (its parameters were not the agent's move for it).

    Raises ``_InvalidDecision`` if it is of this version but malformed (corrupted storage).
    """
    if not isinstance(raw, dict) or raw.get("v") != _attrs.FORMAT_VERSION:
        return None
    if number is not None and "t" in raw and raw["t"] != number:
        return None
    try:
        decision = Decision(
            int(raw["s"]), int(raw["a"]), bool(raw["e"]), float(raw["k"]), int(raw["n"])
        )
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise _InvalidDecision(str(exc)) from exc
    in_range = -1 <= decision.state < n_states and -1 <= decision.action < n_actions
    if not in_range or (decision.state < 0) != (decision.action < 0):
        raise _InvalidDecision(f"state or action out of range in {raw!r}")
    if not math.isfinite(decision.step_size) or decision.step_size <= 0.0:
        raise _InvalidDecision(f"step size out of range in {raw!r}")
    return decision


def recorded_decision(trial: FrozenTrial) -> Decision | None:
    """The decision RLSampler recorded on ``trial`` for itself, or ``None`` (none, another
    version, a copy from another trial, or malformed: views skip those silently; the replay
    warns about malformed ones)."""
    try:
        return _parse_decision(
            trial.system_attrs.get(_attrs.DECISION_KEY), N_STATES, len(ACTIONS), trial.number
        )
    except _InvalidDecision:
        return None


def rank_key(trial: FrozenTrial, sign: float) -> RankKey | None:
    """The sort key of a finished trial's result; ``None`` for failed trials."""
    if trial.state == TrialState.COMPLETE and trial.values is not None:
        value = sign * trial.values[0]
        return None if math.isnan(value) else (0, 0.0, value)
    if trial.state == TrialState.PRUNED:
        if trial.intermediate_values:
            last_step = max(trial.intermediate_values)
            value = sign * trial.intermediate_values[last_step]
            if not math.isnan(value):
                return (1, -float(last_step), value)
        return (2, 0.0, 0.0)
    return None


class RankIndex:
    """The results folded so far, sorted best first, with the trial number of each."""

    def __init__(self) -> None:
        self._entries: list[tuple[RankKey, float]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def better_count(self, key: RankKey) -> float:
        """How many results beat ``key``; a tie counts one half."""
        low = bisect_left(self._entries, (key, -math.inf))
        high = bisect_right(self._entries, (key, math.inf))
        return low + 0.5 * (high - low)

    def insert(self, key: RankKey, number: int) -> None:
        insort(self._entries, (key, float(number)))

    def best(self) -> RankKey | None:
        return self._entries[0][0] if self._entries else None

    def top(self, k: int) -> list[tuple[RankKey, int]]:
        return [(key, int(number)) for key, number in self._entries[:k]]


class _Folding:
    """The progress summary of a history prefix, advanced one finished trial at a time, and the
    reward each result pays.

    Rewards (all in [-1, 1], invariant under any shift and positive scaling of the objective):

    - a new best pays ``0.25 + 0.75 p``, where ``p`` is the fraction of the earlier improvements
      of the best value that this improvement exceeds in size (1 for the first). Paying for the
      size of an improvement by its rank, not only for success, keeps the agent from learning
      to take ever smaller steps, which succeed often but gain little;
    - any other result pays ``-q``, where ``q`` is the fraction of earlier results better than
      it (ties count one half): 0 for a near miss, -1 for the worst so far;
    - a failed trial pays -1.
    """

    def __init__(self) -> None:
        self.progress = Progress(0, 0.0, INITIAL_STEP_SIZE)
        self.best: RankKey | None = None
        self.improvements: list[float] = []

    def advance(
        self,
        key: RankKey | None,
        better: float,
        n_earlier: int,
        decision: Decision | None,
    ) -> float:
        """Fold one result in; returns the reward of the action that produced it."""
        step_size = decision.step_size if decision is not None else self.progress.step_size
        if key is None:
            self.progress = Progress(self.progress.since_improvement + 1, 1.0, step_size)
            return FAILED_REWARD
        quality = better / n_earlier if n_earlier else 0.0
        improved = self.best is None or key < self.best
        since = 0 if improved else self.progress.since_improvement + 1
        self.progress = Progress(since, quality, step_size)
        if not improved:
            return -quality
        reward = 1.0
        if self.best is not None:
            gain = _improvement(self.best, key)
            if self.improvements:
                exceeded = bisect_left(self.improvements, gain) / len(self.improvements)
                reward = MIN_IMPROVEMENT_REWARD + (1.0 - MIN_IMPROVEMENT_REWARD) * exceeded
            insort(self.improvements, gain)
        self.best = key
        return reward

    def copy(self) -> _Folding:
        """A copy for looking ahead at the progress summary; its rewards are not used, so it does
        not carry the sizes of earlier improvements."""
        clone = _Folding()
        clone.progress, clone.best = self.progress, self.best
        return clone


class Snapshot(NamedTuple):
    """The history as the sampler sees it when it samples a new trial."""

    progress: Progress
    """Summary of all finished trials in number order, with the newest recorded step size."""
    ranked: list[tuple[RankKey, int]]
    """The best results, best first, as ``(key, trial number)``."""
    n_results: int
    """Number of finished trials with a result (completed or pruned)."""
    n_completed: int
    """Number of completed trials."""
    completed_past_prefix: list[tuple[int, float]]
    """``(trial number, signed value)`` of the completed trials past the folded prefix (the
    folded ones are :attr:`Replay.completed`)."""


class Replay:
    """The agent and the history summary, folded from a study's trials incrementally.

    Args:
        agent: A fresh agent to train.
        sign: ``1.0`` to minimise, ``-1.0`` to maximise.
    """

    def __init__(self, agent: Agent, sign: float) -> None:
        self.agent = agent
        self.sign = sign
        self.ranks = RankIndex()
        self.completed: list[tuple[int, float]] = []
        self._folding = _Folding()
        self._n_folded = 0
        self._last_trial_id: int | None = None
        self._warned_invalid = False

    @property
    def n_completed(self) -> int:
        return len(self.completed)

    @property
    def n_folded(self) -> int:
        """Number of leading trials (in number order) folded in so far."""
        return self._n_folded

    def is_prefix_of(self, trials: Sequence[FrozenTrial]) -> bool:
        """Whether the trials folded so far are still the first trials of ``trials``."""
        if self._n_folded == 0:
            return True
        if len(trials) < self._n_folded:
            return False
        return trial_id(trials[self._n_folded - 1]) == self._last_trial_id

    def decision(self, trial: FrozenTrial) -> Decision | None:
        """The decision recorded on ``trial``; malformed ones are ignored with one warning."""
        try:
            return _parse_decision(
                trial.system_attrs.get(_attrs.DECISION_KEY),
                self.agent.n_states,
                self.agent.n_actions,
                trial.number,
            )
        except _InvalidDecision as exc:
            if not self._warned_invalid:
                self._warned_invalid = True
                warnings.warn(
                    f"Ignoring a malformed `{_attrs.DECISION_KEY}` attr on trial "
                    f"#{trial.number} ({exc}); such trials count as history only.",
                    stacklevel=2,
                )
            return None

    def fold(self, trials: Sequence[FrozenTrial]) -> None:
        """Fold in every trial of the finished prefix of ``trials`` not folded yet."""
        while self._n_folded < len(trials) and trials[self._n_folded].state.is_finished():
            trial = trials[self._n_folded]
            key = rank_key(trial, self.sign)
            better = self.ranks.better_count(key) if key is not None else 0.0
            n_earlier = len(self.ranks)
            decision = self.decision(trial)
            reward = self._folding.advance(key, better, n_earlier, decision)
            if key is not None:
                self.ranks.insert(key, trial.number)
                if key[0] == 0:
                    self.completed.append((trial.number, key[2]))
            if decision is not None and decision.action >= 0:
                next_state = state_index(self._folding.progress)
                self.agent.update(Transition(decision.state, decision.action, reward, next_state))
            self._n_folded += 1
            self._last_trial_id = trial_id(trial)

    def snapshot(self, trials: Sequence[FrozenTrial], n_top: int) -> Snapshot:
        """The history including finished trials past the folded prefix (out of order), and the
        newest step size recorded by any trial, running ones included."""
        folding = self._folding.copy()
        extra: list[tuple[RankKey, int]] = []
        completed: list[tuple[int, float]] = []
        step_size = folding.progress.step_size
        for trial in trials[self._n_folded :]:
            decision = self.decision(trial)
            if decision is not None:
                step_size = decision.step_size
            if not trial.state.is_finished():
                continue
            key = rank_key(trial, self.sign)
            if key is None:
                folding.advance(None, 0.0, 0, None)
                continue
            better = self.ranks.better_count(key) + sum(
                1.0 if other < key else 0.5 if other == key else 0.0 for other, _ in extra
            )
            folding.advance(key, better, len(self.ranks) + len(extra), None)
            extra.append((key, trial.number))
            if key[0] == 0:
                completed.append((trial.number, key[2]))
        ranked = sorted(self.ranks.top(n_top) + extra)[:n_top]
        progress = folding.progress._replace(step_size=step_size)
        n_completed = self.n_completed + len(completed)
        return Snapshot(progress, ranked, len(self.ranks) + len(extra), n_completed, completed)
