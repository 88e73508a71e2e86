"""Off-policy learning of the pruning policy from finished learning curves.

Each completed trial is an episode the pruner can replay with hindsight. At every report after
the warm-up, the state is binned from the fraction of the run done, the rank of the value among
the earlier trials' curves at that step, the change of that rank since the last report, and
whether the curve is on course to overtake the best value there
(:mod:`~optuna_rl.pruning.state`). Both actions are scored, because the curve tells what either
would have led to:

- *prune* ends the episode and costs ``penalty`` (:data:`WINNER_COST` full runs) if the trial
  finished among the best ``top_quantile`` of the completed trials (a lost winner), nothing
  otherwise;
- *continue* costs the compute of the rest of the run, as a fraction of a full run, until the
  report where the current greedy policy would prune this very curve (and there the pruning
  cost), or until the end: a Monte-Carlo return under the policy, computed in hindsight.

So ``Q(s, prune)`` estimates ``-penalty * P(winner | s)`` and ``Q(s, continue)`` the cost of going
on under the policy; the policy prunes where a winner is unlikely enough to be worth the compute
the rest of the run would take. Q-values are sample averages (``learning_rate=None``) that start
from a prior table (:mod:`~optuna_rl.pruning.prior`) counted as pseudo-samples, so the study's
own samples outweigh the prior as they accumulate; without a prior, the first sample sets a
value.

Curves cut short (pruned, failed, or completed without a usable value) have no final value:
nothing says whether pruning them lost a winner. They count as compute and as reference curves
that later trials rank against, but teach the table nothing. (Bootstrapping them toward the
values of the states they reached next was tried: in a state a curve stays in for several
reports, the copies drown the completed curves' evidence, and one early fluke spread to
hundreds of samples.) States that completed curves no longer reach, once the policy prunes
there, keep their prior values or borrow from a better-ranked state (:func:`pruning_evidence`).
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
from optuna_rl.pruning.prior import PriorTable
from optuna_rl.pruning.state import CONTINUE
from optuna_rl.pruning.state import N_STATES
from optuna_rl.pruning.state import PRUNE
from optuna_rl.pruning.state import better_ranked_states
from optuna_rl.pruning.state import overtakes
from optuna_rl.pruning.state import state_index


WINNER_COST = 4.0
"""What losing a winner costs, in full runs of compute. At equal compute (a fixed budget of
GPU hours), what pruning saves buys more trials, and a winner pruned by mistake is replaced
by a later one: it costs the compute the study spends to meet another, not all the runs it
would take without pruning (``1 / top_quantile``). Chosen by the mean anytime area at equal
compute on the pruning corpus's train split (``benchmarks/train_pruner_prior.py``); 3 prunes
winners early too often, 5 saves less."""

MIN_STATE_SAMPLES = 5
"""Samples a state needs before its values count as evidence to prune a running trial there,
the prior's pseudo-counts included."""


def pruning_evidence(q: np.ndarray, visits: np.ndarray, state: int) -> int | None:
    """The state whose values say pruning pays here; ``None`` if there is none.

    A state seen often enough speaks for itself: it is the evidence if pruning has the higher
    Q-value there, and there is none otherwise. Only a state seen too rarely borrows from a
    better-ranked state at the same progress and trend where pruning pays (the chance of ending
    among the best can only fall as the rank worsens)."""
    if visits[state, PRUNE] >= MIN_STATE_SAMPLES:
        return state if q[state, PRUNE] > q[state, CONTINUE] else None
    for candidate in reversed(better_ranked_states(state)[:-1]):
        if visits[candidate, PRUNE] >= MIN_STATE_SAMPLES and q[candidate, PRUNE] > q[candidate, 0]:
            return candidate
    return None


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
        prior: The Q-table to start from and how many samples each entry counts as
            (:class:`~optuna_rl.pruning.prior.PriorTable`); ``None`` starts from nothing.
        winner_cost: What losing a winner costs, in full runs of compute
            (:data:`WINNER_COST`).
    """

    def __init__(
        self,
        top_quantile: float,
        n_warmup_steps: int,
        prior: PriorTable | None = None,
        winner_cost: float = WINNER_COST,
    ) -> None:
        if prior is None:
            prior = PriorTable.nothing()
        self.prior = prior
        self.agent = Agent(N_STATES, 2, learning_rate=None, discount=1.0, initial_q=prior.q)
        # Pseudo-counts: each prior value weighs as much as that many of the study's samples
        # (Sutton & Barto's sample average, eq. 2.3, started from n0 samples at the prior).
        self.agent.visits[:] = prior.weight
        self.top_quantile = top_quantile
        self.penalty = winner_cost
        self.n_warmup_steps = n_warmup_steps
        self.index = StepIndex()
        self.finals: SortedMultiset[float] = SortedMultiset()
        self.horizon = 0
        """The last step of the longest completed curve: a full run."""
        self.n_full_runs = 0
        """Completed curves with at least one report: while there is none, :attr:`horizon` is
        unknown (a full run may end at step 0)."""

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
            if len(curve):
                self.n_full_runs += 1
                undo.append(self._forget_full_run)
            if len(curve) and curve.last_step > self.horizon:
                old_horizon = self.horizon
                self.horizon = curve.last_step
                undo.append(lambda: setattr(self, "horizon", old_horizon))
        undo.append(self.index.add(curve))

        def undo_all() -> None:
            for step in reversed(undo):
                step()

        return undo_all

    def _forget_full_run(self) -> None:
        self.n_full_runs -= 1

    def state(self, curve: Curve, horizon: int | None = None) -> tuple[int, bool] | None:
        """The state of a running curve at its last report against the folded curves, and
        whether it is the best there; ``None`` without a reference at that step.

        Only the last three reports matter (the rank now, its change since the report before,
        the slope over the last two), so only they are ranked: a check stays O(1) in the
        number of reports and O(log n) in the number of curves."""
        states, is_best = self._states(curve, horizon or self.horizon, last=3)
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
        first = 0 if last is None else max(len(steps) - last, 0)
        ranked = standings(values[first:], steps[first:], self.index)
        quantile = ranked.quantile
        change = np.diff(quantile, prepend=quantile[:1])
        states = np.full(len(quantile), -1, dtype=np.int64)
        for i in np.flatnonzero(~np.isnan(quantile)):
            end = first + i + 1
            step = int(steps[end - 1])
            fraction = step / horizon if horizon > 0 else 1.0
            delta = 0.0 if np.isnan(change[i]) else float(change[i])
            best = self.index.best(step)
            overtaking = best is not None and overtakes(
                steps[max(end - 3, 0) : end], values[max(end - 3, 0) : end], best, horizon
            )
            states[i] = state_index(float(fraction), float(quantile[i]), delta, overtaking)
        return states, ranked.is_best

    def _episode(self, curve: Curve) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A finished curve as an episode: the horizon, the state and step of each report after
        the warm-up, the indices of the reports that have a state, and whether the curve was
        the best at each report."""
        horizon = max(self.horizon, curve.last_step)
        states, is_best = self._states(curve, horizon)
        steps = curve.steps[curve.steps >= self.n_warmup_steps]
        return horizon, states, steps, np.flatnonzero(states >= 0), is_best

    def _learn(self, curve: Curve, winner: bool) -> list[Undo]:
        """Learn both actions at every report of a completed curve, with hindsight.

        Pruning at a report costs ``penalty`` if the trial was a winner. Continuing is scored
        by what the current greedy policy would have done along the rest of this very curve
        (a Monte-Carlo return, Sutton & Barto, 2018, section 5.1, with the policy's stopping
        rule applied in hindsight): pay the steps to the report where it would prune, then the
        pruning cost there, or to the end if it never would. Bootstrapping one report to the
        next instead chains sample averages through states a curve stays in for many reports,
        and they learn the cost of going on far too slowly."""
        horizon, states, steps, known, is_best = self._episode(curve)
        prune_reward = -self.penalty if winner else 0.0
        returns = np.empty(len(known))
        arriving = 0.0  # What the greedy policy gets from the next report on.
        for j in range(len(known) - 1, -1, -1):
            i = known[j]
            next_step = steps[known[j + 1]] if j + 1 < len(known) else curve.last_step
            returns[j] = -_cost(next_step - steps[i], horizon) + arriving
            prunes_here = (
                steps[i] < horizon
                and not is_best[i]
                and pruning_evidence(self.agent.q, self.agent.visits, int(states[i])) is not None
            )
            arriving = prune_reward if prunes_here else returns[j]
        undo: list[Undo] = []
        for j, i in enumerate(known):
            state = int(states[i])
            undo.append(self.agent.update(Transition(state, PRUNE, prune_reward, TERMINAL)))
            going_on = float(returns[j])
            undo.append(self.agent.update(Transition(state, CONTINUE, going_on, TERMINAL)))
        return undo


def _cost(steps: int, horizon: int) -> float:
    """The compute of ``steps`` more steps, as a fraction of a full run; nothing when no run
    has gone past step 0 (every report at step 0: there is nothing left to save)."""
    return steps / horizon if horizon > 0 else 0.0
