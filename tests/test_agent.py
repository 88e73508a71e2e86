"""The Q-learning agent: the update, action selection, serialisation, and learning checks on
problems whose best action is known, alone and through the sampler's history replay."""

from __future__ import annotations

import json

import numpy as np
import optuna
from optuna.distributions import FloatDistribution
import pytest

from optuna_rl import RLSampler
from optuna_rl._attrs import DECISION_KEY
from optuna_rl._attrs import decision_attr
from optuna_rl.core.agent import OUTCOME_HORIZON
from optuna_rl.core.agent import OUTCOME_WINDOW
from optuna_rl.core.agent import TERMINAL
from optuna_rl.core.agent import Agent
from optuna_rl.core.agent import LinearSchedule
from optuna_rl.core.agent import Transition
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.results import Decision
from optuna_rl.sampling.state import N_STATES


# ---------------------------------------------------------------------------------------------
# The update
# ---------------------------------------------------------------------------------------------


def test_update_matches_hand_computed_example() -> None:
    # Q(S, A) <- Q(S, A) + alpha [R + gamma max_a Q(S', a) - Q(S, A)]  (Sutton & Barto, eq. 6.8)
    # with alpha = 0.5, gamma = 0.9, two states, two actions, Q starting at 0:
    #
    # 1. (s=0, a=1, r=1,  s'=1): target = 1 + 0.9 * max(0, 0)           = 1
    #                            Q[0,1] = 0 + 0.5 * (1 - 0)              = 0.5
    # 2. (s=1, a=0, r=2,  s'=0): target = 2 + 0.9 * max(0, 0.5)         = 2.45
    #                            Q[1,0] = 0 + 0.5 * (2.45 - 0)           = 1.225
    # 3. (s=0, a=1, r=-1, s'=1): target = -1 + 0.9 * max(1.225, 0)      = 0.1025
    #                            Q[0,1] = 0.5 + 0.5 * (0.1025 - 0.5)     = 0.30125
    # 4. (s=0, a=0, r=0,  s'=0): target = 0 + 0.9 * max(0, 0.30125)     = 0.271125
    #                            Q[0,0] = 0 + 0.5 * (0.271125 - 0)       = 0.1355625
    agent = Agent(n_states=2, n_actions=2, learning_rate=0.5, discount=0.9)
    agent.update(Transition(0, 1, 1.0, 1))
    np.testing.assert_allclose(agent.q, [[0.0, 0.5], [0.0, 0.0]])
    agent.update(Transition(1, 0, 2.0, 0))
    np.testing.assert_allclose(agent.q, [[0.0, 0.5], [1.225, 0.0]])
    agent.update(Transition(0, 1, -1.0, 1))
    np.testing.assert_allclose(agent.q, [[0.0, 0.30125], [1.225, 0.0]])
    agent.update(Transition(0, 0, 0.0, 0))
    np.testing.assert_allclose(agent.q, [[0.1355625, 0.30125], [1.225, 0.0]])
    np.testing.assert_array_equal(agent.visits, [[1, 2], [1, 0]])
    assert agent.n_updates == 4


def test_update_with_initial_q_and_self_loop() -> None:
    # alpha = 0.25, gamma = 0.5, Q starting at 2 everywhere; one state, one action, r = 1:
    # target = 1 + 0.5 * 2 = 2           -> Q = 2 + 0.25 * (2 - 2)           = 2
    # then r = -3: target = -3 + 0.5 * 2 = -2 -> Q = 2 + 0.25 * (-2 - 2)   = 1
    # then r = 0:  target = 0 + 0.5 * 1 = 0.5 -> Q = 1 + 0.25 * (0.5 - 1)  = 0.875
    agent = Agent(1, 1, learning_rate=0.25, discount=0.5, initial_q=2.0)
    assert agent.q.tolist() == [[2.0]]
    for reward, expected in [(1.0, 2.0), (-3.0, 1.0), (0.0, 0.875)]:
        agent.update(Transition(0, 0, reward, 0))
        assert agent.q[0, 0] == pytest.approx(expected)
    assert agent.visits.tolist() == [[3]]


def test_initial_q_is_the_starting_table_and_stays() -> None:
    table = np.arange(6, dtype=float).reshape(2, 3)
    agent = Agent(2, 3, 0.5, 0.0, initial_q=table)
    np.testing.assert_array_equal(agent.q, table)
    agent.update(Transition(1, 2, 10.0, TERMINAL))
    np.testing.assert_array_equal(agent.initial_q, table)
    assert agent.q[1, 2] == 7.5
    np.testing.assert_array_equal(agent.copy().initial_q, table)


def test_update_undo_restores_the_entry() -> None:
    agent = Agent(2, 2, None, 0.9)
    agent.update(Transition(0, 1, 1.0, 1))
    before_q, before_visits = agent.q.copy(), agent.visits.copy()
    undo = agent.update(Transition(0, 1, -3.0, 1))
    assert not np.array_equal(agent.q, before_q)
    undo()
    np.testing.assert_array_equal(agent.q, before_q)
    np.testing.assert_array_equal(agent.visits, before_visits)


def test_shapes_and_properties() -> None:
    agent = Agent(5, 3, 0.1, 0.0)
    assert (agent.n_states, agent.n_actions, agent.n_updates) == (5, 3, 0)
    assert agent.q.shape == agent.visits.shape == (5, 3)
    assert agent.q.dtype == np.float64
    assert agent.visits.dtype == np.int64


def test_copy_is_independent() -> None:
    agent = Agent(2, 2, 0.5, 0.9)
    agent.update(Transition(0, 1, 1.0, 1))
    clone = agent.copy()
    np.testing.assert_array_equal(clone.q, agent.q)
    np.testing.assert_array_equal(clone.visits, agent.visits)
    clone.update(Transition(0, 1, 1.0, 1))
    assert agent.visits[0, 1] == 1
    assert agent.q[0, 1] == 0.5


# ---------------------------------------------------------------------------------------------
# Acting
# ---------------------------------------------------------------------------------------------


def test_epsilon_zero_picks_the_greedy_action() -> None:
    agent = Agent(2, 4, 0.5, 0.5)
    agent.q[0] = [0.0, 1.0, 3.0, -1.0]
    agent.q[1] = [5.0, 1.0, 3.0, -1.0]
    rng = np.random.default_rng(0)
    for _ in range(100):
        assert agent.act(0, rng, 0.0) == (2, False)
        assert agent.act(1, rng, 0.0) == (0, False)


def test_ties_are_broken_at_random() -> None:
    agent = Agent(1, 4, 0.5, 0.5)
    agent.q[0] = [0.0, 3.0, 3.0, 1.0]
    np.testing.assert_array_equal(agent.greedy_actions(0), [1, 2])
    rng = np.random.default_rng(0)
    chosen = [agent.act(0, rng, 0.0) for _ in range(400)]
    actions = [a for a, _ in chosen]
    assert set(actions) == {1, 2}
    assert 100 < actions.count(1) < 300
    assert not any(explored for _, explored in chosen)
    # A fresh agent: every action is greedy.
    fresh = Agent(1, 5, 0.5, 0.5)
    assert {fresh.act(0, rng, 0.0)[0] for _ in range(300)} == set(range(5))


def test_epsilon_one_explores_uniformly() -> None:
    agent = Agent(1, 5, 0.5, 0.5)
    agent.q[0] = [0.0, 0.0, 9.0, 0.0, 0.0]
    rng = np.random.default_rng(1)
    chosen = [agent.act(0, rng, 1.0) for _ in range(1000)]
    counts = np.bincount([a for a, _ in chosen], minlength=5)
    assert np.all(counts > 150), counts
    assert all(explored for _, explored in chosen)


def test_allowed_mask_is_respected() -> None:
    agent = Agent(1, 5, 0.5, 0.5)
    agent.q[0] = [0.0, 9.0, 1.0, 8.0, 2.0]
    allowed = np.array([True, False, True, False, True])
    np.testing.assert_array_equal(agent.greedy_actions(0, allowed), [4])
    rng = np.random.default_rng(2)
    for epsilon in (0.0, 0.5, 1.0):
        actions = {agent.act(0, rng, epsilon, allowed)[0] for _ in range(300)}
        assert actions <= {0, 2, 4}
        if epsilon == 0.0:
            assert actions == {4}
        if epsilon == 1.0:
            assert actions == {0, 2, 4}
    # Greedy among the allowed even when every allowed value is below a disallowed one.
    agent.q[0] = [-5.0, 9.0, -1.0, 8.0, -7.0]
    assert {agent.act(0, rng, 0.0, allowed)[0] for _ in range(100)} == {2}
    # Ties among the allowed only.
    agent.q[0] = [1.0, 1.0, 1.0, 0.0, 1.0]
    mask = np.array([False, True, False, True, True])
    assert {agent.act(0, rng, 0.0, mask)[0] for _ in range(200)} == {1, 4}


def test_no_allowed_action_raises() -> None:
    agent = Agent(1, 3, 0.5, 0.5)
    with pytest.raises(ValueError):
        agent.act(0, np.random.default_rng(0), 0.1, np.zeros(3, dtype=bool))


# ---------------------------------------------------------------------------------------------
# Serialisation and schedules
# ---------------------------------------------------------------------------------------------


def _trained_agent() -> Agent:
    agent = Agent(4, 3, 0.3, 0.7, initial_q=0.25, success_reward=0.0)
    rng = np.random.default_rng(0)
    for _ in range(50):
        state, action, next_state = (int(i) for i in rng.integers([4, 3, 4]))
        agent.update(Transition(state, action, float(rng.normal()), next_state))
    return agent


def _assert_same_agent(a: Agent, b: Agent) -> None:
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_array_equal(a.visits, b.visits)
    assert (a.success_reward, a.outcomes, a.n_outcomes) == (
        b.success_reward,
        b.outcomes,
        b.n_outcomes,
    )
    assert a.q.dtype == b.q.dtype == np.float64
    assert a.visits.dtype == b.visits.dtype == np.int64
    assert (a.learning_rate, a.discount) == (b.learning_rate, b.discount)
    np.testing.assert_array_equal(a.initial_q, b.initial_q)


def test_to_dict_from_dict_round_trip() -> None:
    agent = _trained_agent()
    data = agent.to_dict()
    assert data["version"] == 3
    restored = Agent.from_dict(data)
    _assert_same_agent(agent, restored)
    # Through JSON, as it would be stored.
    restored_json = Agent.from_dict(json.loads(json.dumps(data)))
    _assert_same_agent(agent, restored_json)
    # The restored agent learns on like the original.
    transition = Transition(1, 2, 0.5, 3)
    agent.update(transition)
    restored_json.update(transition)
    _assert_same_agent(agent, restored_json)


def test_from_dict_does_not_share_arrays() -> None:
    agent = _trained_agent()
    restored = Agent.from_dict(agent.to_dict())
    restored.update(Transition(0, 0, 10.0, 0))
    assert not np.array_equal(agent.q, restored.q)


@pytest.mark.parametrize("version", [0, 1, 2, None, "3"])
def test_from_dict_wrong_version_raises(version: object) -> None:
    data = _trained_agent().to_dict()
    data["version"] = version
    with pytest.raises(ValueError, match="version"):
        Agent.from_dict(data)


def test_from_dict_missing_version_raises() -> None:
    data = _trained_agent().to_dict()
    del data["version"]
    with pytest.raises(ValueError, match="version"):
        Agent.from_dict(data)


def test_linear_schedule_values() -> None:
    schedule = LinearSchedule(0.3, 0.05, 100)
    assert schedule(0) == pytest.approx(0.3)
    assert schedule(25) == pytest.approx(0.2375)
    assert schedule(50) == pytest.approx(0.175)
    assert schedule(99) == pytest.approx(0.0525)
    assert schedule(100) == 0.05
    assert schedule(10_000) == 0.05
    values = [schedule(step) for step in range(120)]
    assert all(a >= b for a, b in zip(values[:-1], values[1:], strict=True))
    # Increasing schedules work as well.
    assert LinearSchedule(0.0, 1.0, 4)(1) == pytest.approx(0.25)
    # A zero duration is the end value at once.
    zero = LinearSchedule(1.0, 0.1, 0)
    assert zero(0) == 0.1
    assert zero(7) == 0.1


def test_linear_schedule_repr() -> None:
    schedule = LinearSchedule(0.3, 0.05, 100)
    assert repr(schedule) == "LinearSchedule(start=0.3, end=0.05, duration=100)"
    assert eval(repr(schedule), {"LinearSchedule": LinearSchedule}).__dict__ == schedule.__dict__


# ---------------------------------------------------------------------------------------------
# Learning checks
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_agent_learns_the_paying_action(seed: int) -> None:
    # Three states, ten actions; action 4 pays about 1, every other action about 0 (noise of
    # standard deviation 0.1); the next state is random whatever the action. Q* (gamma = 0.5) is
    # 2 for action 4 and 1 for the others in every state.
    best_action, n_states, n_actions, n_steps = 4, 3, 10, 800
    rng = np.random.default_rng(seed)
    agent = Agent(n_states, n_actions, learning_rate=0.3, discount=0.5)
    epsilon = LinearSchedule(1.0, 0.2, 400)
    state, visited, rewards = 0, set(), []
    for step in range(n_steps):
        action, _ = agent.act(state, rng, epsilon(step))
        reward = (1.0 if action == best_action else 0.0) + 0.1 * rng.standard_normal()
        next_state = int(rng.integers(n_states))
        agent.update(Transition(state, action, reward, next_state))
        visited.add(state)
        rewards.append(reward)
        state = next_state
    assert visited == set(range(n_states))
    for s in visited:
        np.testing.assert_array_equal(agent.greedy_actions(s), [best_action])
    np.testing.assert_allclose(agent.q[:, best_action], 2.0, atol=0.3)
    # Far better than a random policy (mean reward 0.1) once exploration has decayed.
    assert np.mean(rewards[n_steps // 2 :]) > 0.7


def _decision_trial(
    value: float, decision: Decision | None, number: int
) -> optuna.trial.FrozenTrial:
    system_attrs = {} if decision is None else {DECISION_KEY: decision_attr(decision)}
    return optuna.create_trial(
        params={"x": float(number % 7) / 7.0},
        distributions={"x": FloatDistribution(0.0, 1.0)},
        value=value,
        system_attrs=system_attrs,
    )


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("good_action", [0, 6])
def test_sampler_replay_learns_the_action_that_finds_new_bests(
    direction: str, good_action: int
) -> None:
    # A history written by hand: after five start-up trials, blocks of three trials taken in the
    # same recorded state: the good action always finds a new best, the two others always give
    # the worst result so far. States cycle over a few indices.
    sign = 1.0 if direction == "minimize" else -1.0
    states = [0, 5, 11, 17]
    others = [a for a in range(len(ACTIONS)) if a != good_action]
    study = optuna.create_study(direction=direction)
    best, worst, number = 100.0, 200.0, 0
    for i in range(5):
        startup = Decision(-1, -1, False, 0.1, -1)
        study.add_trial(_decision_trial(sign * (150.0 + i), startup, number))
        number += 1
    for i in range(90):
        state = states[(i // 3) % len(states)]
        if i % 3 == 0:
            action, best = good_action, best - 1.0
            value = best
        else:
            action, worst = others[i % len(others)], worst + 1.0
            value = worst
        decision = Decision(state, action, False, 0.05, 0)
        study.add_trial(_decision_trial(sign * value, decision, number))
        number += 1

    # From a blank table, so that everything the agent knows comes from this study's trials.
    blank = np.zeros((N_STATES, len(ACTIONS)))
    agent = RLSampler(seed=0, initial_q_table=blank).agent_for(study)
    assert agent.q.shape == (N_STATES, len(ACTIONS))
    assert agent.n_updates == 90
    for state in states:
        np.testing.assert_array_equal(agent.greedy_actions(state), [good_action])
        assert agent.visits[state, good_action] > 0
        assert agent.q[state, good_action] > 0.0
    # Unvisited states learned nothing.
    untouched = [s for s in range(N_STATES) if s not in states]
    assert not agent.visits[untouched].any()
    assert not agent.q[untouched].any()


def _explorer(n_actions: int = 4) -> Agent:
    """An agent that explores by Thompson draws on its actions' outcomes (a success is a
    positive reward)."""
    return Agent(1, n_actions, 0.1, 0.0, success_reward=0.0)


def _explored_shares(agent: Agent, n: int = 2000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picks = [agent.act(0, rng, epsilon=1.0) for _ in range(n)]
    assert all(explored for _, explored in picks)
    return np.bincount([a for a, _ in picks], minlength=agent.n_actions) / n


def test_thompson_exploration_prefers_the_action_that_succeeds() -> None:
    agent = _explorer()
    for _ in range(5):
        agent.update(Transition(0, 0, -1.0, 0))
        agent.update(Transition(0, 1, -1.0, 0))
        agent.update(Transition(0, 2, 1.0, 0))
        agent.update(Transition(0, 3, -1.0, 0))
    shares = _explored_shares(agent)
    # Beta(6, 1) against three Beta(1, 6): action 2 wins almost every draw.
    assert shares[2] > 0.95
    # Without success_reward the same history explores uniformly.
    uniform = Agent(1, 4, 0.1, 0.0)
    for _ in range(5):
        uniform.update(Transition(0, 2, 1.0, 0))
    np.testing.assert_allclose(_explored_shares(uniform), 0.25, atol=0.04)


def test_thompson_exploration_tries_an_untried_action() -> None:
    agent = _explorer(3)
    for _ in range(4):
        agent.update(Transition(0, 0, -1.0, 0))
        agent.update(Transition(0, 1, -1.0, 0))
    shares = _explored_shares(agent)
    # Action 2 draws from Beta(1, 1), the failing ones from Beta(1, 5).
    assert shares[2] > 0.6
    # Respects the allowed mask.
    rng = np.random.default_rng(1)
    allowed = np.array([True, True, False])
    assert {agent.act(0, rng, 1.0, allowed)[0] for _ in range(200)} == {0, 1}


def test_thompson_exploration_counts_only_the_latest_outcomes() -> None:
    # Only each action's latest OUTCOME_WINDOW outcomes count: ten successes of action 0 long
    # ago are outweighed by its ten latest failures.
    agent = _explorer(2)
    for _ in range(OUTCOME_WINDOW):
        agent.update(Transition(0, 0, 1.0, 0))
    for _ in range(OUTCOME_WINDOW):
        agent.update(Transition(0, 0, -1.0, 0))
    for _ in range(3):
        agent.update(Transition(0, 1, -1.0, 0))
    assert agent.outcome_counts(0) == (0, OUTCOME_WINDOW)
    assert _explored_shares(agent)[1] > 0.7


def test_thompson_outcomes_expire_after_the_horizon() -> None:
    # An action that failed early and was then left untried for OUTCOME_HORIZON updates is
    # drawn as if new, as often as an action never tried.
    agent = _explorer(3)
    for _ in range(5):
        agent.update(Transition(0, 0, -1.0, 0))
    assert agent.outcome_counts(0) == (0, 5)
    for _ in range(OUTCOME_HORIZON - 1):
        agent.update(Transition(0, 1, -1.0, 0))
    assert agent.outcome_counts(0) == (0, 1)
    agent.update(Transition(0, 1, -1.0, 0))
    assert agent.outcome_counts(0) == (0, 0)
    shares = _explored_shares(agent, n=4000)
    assert abs(shares[0] - shares[2]) < 0.04
    assert shares[1] < 0.05


def test_thompson_outcomes_undo_and_copy() -> None:
    agent = _explorer(2)
    agent.update(Transition(0, 0, 1.0, 0))
    before = (agent.q.copy(), [list(o) for o in agent.outcomes], agent.n_outcomes)
    undo = agent.update(Transition(0, 1, 1.0, 0))
    clone = agent.copy()
    undo()
    np.testing.assert_array_equal(agent.q, before[0])
    assert (agent.outcomes, agent.n_outcomes) == (before[1], before[2])
    # The copy kept the undone outcome and does not share lists with the original.
    assert clone.outcome_counts(1) == (1, 0)
    clone.update(Transition(0, 0, -1.0, 0))
    assert agent.outcome_counts(0) == (1, 0)
