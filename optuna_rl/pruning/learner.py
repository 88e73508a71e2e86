"""Off-policy learning of the pruning policy from finished learning curves.

Each completed trial is an episode the pruner can replay with hindsight. At every report after
the warm-up, the state is binned from the fraction of the run done, the rank of the value among
the earlier trials' curves at that step, and the change of that rank since the last report.
Both actions are scored, because the curve tells what either would have led to:

- *continue* costs the steps until the next report, as a fraction of a full run, and leads to
  the next report's state (the last report leads to the end of the run);
- *prune* ends the episode and costs ``penalty`` if the trial finished among the best
  ``top_quantile`` of the completed trials (a lost winner), nothing otherwise.

So ``Q(s, prune)`` estimates ``-penalty * P(winner | s)`` and ``Q(s, continue)`` the cost of going
on and then pruning at the best later moment; the policy prunes where a winner is unlikely
enough to be worth the compute the rest of the run would take.

Curves cut short (pruned, failed, or completed without a usable value) have no final value,
yet they are most of the data once the pruner prunes, and the only data on bad early ranks.
They are learned from by bootstrapping (temporal-difference learning): from each report to the
next, ``Q(s, prune)`` moves toward ``Q(s', prune)`` (pruning now loses a winner exactly when
pruning at the next report would) and ``Q(s, continue)`` toward the step's cost plus
``max_a Q(s', a)``. Only states ``s'`` that completed curves have visited at least
:data:`MIN_STATE_SAMPLES` times serve as targets (though their values, too, may have been moved
by other curves cut short); states that completed curves never reach (bad ranks, once the
pruner prunes them) learn only this way.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from optuna_rl.core.agent import TERMINAL
from optuna_rl.core.agent import Agent
from optuna_rl.core.agent import Transition
from optuna_rl.core.agent import Undo
from optuna_rl.core.ranking import SortedMultiset
from optuna_rl.pruning.curves import Curve
from optuna_rl.pruning.curves import StepIndex
from optuna_rl.pruning.curves import standings
from optuna_rl.pruning.state import CONTINUE
from optuna_rl.pruning.state import N_STATES
from optuna_rl.pruning.state import PRUNE
from optuna_rl.pruning.state import state_index


MIN_STATE_SAMPLES = 5
"""Samples a state needs before its values count as evidence. To prune a running trial there,
any samples count (completed curves' and bootstrapped ones); to serve as the bootstrap target
of curves cut short, only visits by completed curves do."""


class CurveRecord(NamedTuple):
    """A finished trial as the pruner's learner sees it."""

    curve: Curve
    """The values it reported (possibly none)."""
    final: float | None
    """Its signed final value if it completed with a usable one, else ``None``."""


class CurveLearner:
    """The pruning agent and the reference curves, folded from finished trials in order.

    Args:
        top_quantile: Completed trials whose final value ranks within this fraction are
            winners, which pruning must not lose.
        n_warmup_steps: Reports before this step are neither decided nor learned from.
    """

    def __init__(self, top_quantile: float, n_warmup_steps: int) -> None:
        self.agent = Agent(N_STATES, 2, learning_rate=None, discount=1.0)
        self.top_quantile = top_quantile
        self.penalty = 1.0 / top_quantile
        self.n_warmup_steps = n_warmup_steps
        self.index = StepIndex()
        self.finals: SortedMultiset[float] = SortedMultiset()
        self.horizon = 0
        """The last step of the longest completed curve: a full run."""
        self.completed_visits = np.zeros(N_STATES, dtype=np.int64)
        """How often completed curves passed through each state."""

    @property
    def n_completed(self) -> int:
        return len(self.finals)

    def fold(self, record: CurveRecord) -> Undo:
        """Learn from one finished trial: its curve and, if it completed, its final signed
        value. Returns a function that takes it back."""
        curve, final = record
        undo: list[Undo] = []
        if final is not None:
            winner = self.finals.counts(final).better < self.top_quantile * (self.n_completed + 1)
            if len(curve):
                undo += self._learn(curve, winner)
            self.finals.insert(final)
            undo.append(lambda: self.finals.remove(final))
            if len(curve) and curve.last_step > self.horizon:
                old_horizon = self.horizon
                self.horizon = curve.last_step
                undo.append(lambda: setattr(self, "horizon", old_horizon))
        elif len(curve):
            undo += self._learn_cut_short(curve)
        undo.append(self.index.add(curve))

        def undo_all() -> None:
            for step in reversed(undo):
                step()

        return undo_all

    def state(self, curve: Curve, horizon: int | None = None) -> tuple[int, bool] | None:
        """The state of a running curve at its last report against the folded curves, and
        whether it is the best there; ``None`` without a reference at that step.

        Only the last two reports matter (the rank now and its change since the report
        before), so only they are ranked: a check stays O(1) in the number of reports."""
        states, is_best = self._states(curve, horizon or self.horizon, last=2)
        if len(states) == 0 or states[-1] < 0:
            return None
        return int(states[-1]), bool(is_best[-1])

    def _states(
        self, curve: Curve, horizon: int, last: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """State index at every report after the warm-up (-1 where nothing ranks against it),
        or at the ``last`` few of them."""
        keep = curve.steps >= self.n_warmup_steps
        steps, values = curve.steps[keep], curve.values[keep]
        if last is not None:
            steps, values = steps[-last:], values[-last:]
        ranked = standings(values, steps, self.index)
        quantile = ranked.quantile
        change = np.diff(quantile, prepend=quantile[:1])
        states = np.full(len(steps), -1, dtype=np.int64)
        for i in np.flatnonzero(~np.isnan(quantile)):
            fraction = steps[i] / horizon if horizon > 0 else 1.0
            delta = 0.0 if np.isnan(change[i]) else float(change[i])
            states[i] = state_index(float(fraction), float(quantile[i]), delta)
        return states, ranked.is_best

    def _episode(self, curve: Curve) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """A finished curve as an episode: the horizon, the state and step of each report after
        the warm-up, and the indices of the reports that have a state."""
        horizon = max(self.horizon, curve.last_step)
        states, _ = self._states(curve, horizon)
        steps = curve.steps[curve.steps >= self.n_warmup_steps]
        return horizon, states, steps, np.flatnonzero(states >= 0)

    def _learn(self, curve: Curve, winner: bool) -> list[Undo]:
        horizon, states, steps, known = self._episode(curve)
        prune_reward = -self.penalty if winner else 0.0
        undo: list[Undo] = []
        for j, i in enumerate(known):
            state = int(states[i])
            self.completed_visits[state] += 1
            undo.append(self._unvisit(state))
            undo.append(self.agent.update(Transition(state, PRUNE, prune_reward, TERMINAL)))
            if j + 1 < len(known):
                nxt = known[j + 1]
                cost = _cost(steps[nxt] - steps[i], horizon)
                transition = Transition(state, CONTINUE, -cost, int(states[nxt]))
            else:
                cost = _cost(curve.last_step - steps[i], horizon)
                transition = Transition(state, CONTINUE, -cost, TERMINAL)
            undo.append(self.agent.update(transition))
        return undo

    def _learn_cut_short(self, curve: Curve) -> list[Undo]:
        """Bootstrap from a curve without a final value, one report to the next (see the module
        docstring)."""
        if self.horizon == 0:
            return []
        horizon, states, steps, known = self._episode(curve)
        undo: list[Undo] = []
        for i, nxt in zip(known[:-1].tolist(), known[1:].tolist(), strict=True):
            state, next_state = int(states[i]), int(states[nxt])
            if self.completed_visits[next_state] < MIN_STATE_SAMPLES:
                continue
            prune_later = float(self.agent.q[next_state, PRUNE])
            undo.append(self.agent.update(Transition(state, PRUNE, prune_later, TERMINAL)))
            cost = _cost(steps[nxt] - steps[i], horizon)
            undo.append(self.agent.update(Transition(state, CONTINUE, -cost, next_state)))
        return undo

    def _unvisit(self, state: int) -> Undo:
        def undo() -> None:
            self.completed_visits[state] -= 1

        return undo


def _cost(steps: int, horizon: int) -> float:
    """The compute of ``steps`` more steps, as a fraction of a full run; nothing when no run
    has gone past step 0 (every report at step 0: there is nothing left to save)."""
    return steps / horizon if horizon > 0 else 0.0
