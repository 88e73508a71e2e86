"""Tune REINFORCE with a baseline on Gymnasium's CartPole-v1 with RLSampler and RLPruner.

Each trial trains a small policy network and a state-value baseline (Sutton & Barto, 2018,
section 13.4) for a fixed number of episodes, reporting the mean return of each update so that
RLPruner can stop runs that are not learning. The tuned values are the learning rate, the
discount, the hidden width, the entropy bonus and the number of episodes per update; the budget
is counted in episodes, so fewer, larger updates cost the same as more, smaller ones.

    python examples/cartpole_reinforce.py --n-trials 30
    optuna-dashboard sqlite:///cartpole.db

CartPole-v1 is built into Gymnasium (``pip install "optuna-rl[examples]"``); nothing is
downloaded. The networks train on CUDA when it is available, on the CPU otherwise (for networks
this small the CPU is as fast).
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import optuna
import torch
from torch import nn

from optuna_rl import RLPruner
from optuna_rl import RLSampler
from optuna_rl.dashboard import write_policy_note


# Configuration.
STORAGE = "sqlite:///cartpole.db"
STUDY_NAME = "cartpole-reinforce"
ENV_ID = "CartPole-v1"
EPISODES = 300  # Training budget per trial; the objective is the mean return of the last 20%.
SEED = 0

# Seeding and device (each trial reseeds torch and the environment from SEED + trial number).
torch.manual_seed(SEED)
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.set_num_threads(1)  # Networks this small run fastest on one CPU thread.


class PolicyAndBaseline(nn.Module):
    """A softmax policy over the actions and a state-value baseline, as two small MLPs."""

    def __init__(self, n_observations: int, n_actions: int, hidden: int) -> None:
        super().__init__()
        self.policy = nn.Sequential(
            nn.Linear(n_observations, hidden), nn.Tanh(), nn.Linear(hidden, n_actions)
        )
        self.value = nn.Sequential(
            nn.Linear(n_observations, hidden), nn.Tanh(), nn.Linear(hidden, 1)
        )

    def distribution(self, observations: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.policy(observations))


def run_episode(
    env: gym.Env, model: PolicyAndBaseline
) -> tuple[list[np.ndarray], list[int], list[float]]:
    """Play one episode with the current policy; returns observations, actions and rewards."""
    observations, actions, rewards = [], [], []
    observation, _ = env.reset()
    done = False
    while not done:
        with torch.no_grad():
            obs = torch.as_tensor(observation, dtype=torch.float32, device=DEVICE)
            action = int(model.distribution(obs).sample().item())
        observations.append(observation)
        actions.append(action)
        observation, reward, terminated, truncated, _ = env.step(action)
        rewards.append(float(reward))
        done = terminated or truncated
    return observations, actions, rewards


def returns_to_go(rewards: list[float], discount: float) -> np.ndarray:
    """G_t = r_t + discount * G_{t+1}, the discounted return from each step on."""
    out = np.zeros(len(rewards), dtype=np.float32)
    running = 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + discount * running
        out[t] = running
    return out


def objective(trial: optuna.Trial, episodes: int = EPISODES) -> float:
    learning_rate = trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True)
    discount = trial.suggest_float("discount", 0.9, 0.999)
    hidden = trial.suggest_int("hidden", 8, 128, log=True)
    entropy_coef = trial.suggest_float("entropy_coef", 1e-4, 1e-1, log=True)
    episodes_per_update = trial.suggest_int("episodes_per_update", 1, 16, log=True)

    torch.manual_seed(SEED + trial.number)
    env = gym.make(ENV_ID)
    env.reset(seed=SEED + trial.number)
    env.action_space.seed(SEED + trial.number)
    model = PolicyAndBaseline(env.observation_space.shape[0], int(env.action_space.n), hidden).to(
        DEVICE
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    episode_returns: list[float] = []
    while len(episode_returns) < episodes:
        batch_obs, batch_actions, batch_returns = [], [], []
        n_batch = min(episodes_per_update, episodes - len(episode_returns))
        for _ in range(n_batch):
            observations, actions, rewards = run_episode(env, model)
            batch_obs += observations
            batch_actions += actions
            batch_returns.append(returns_to_go(rewards, discount))
            episode_returns.append(sum(rewards))
        obs = torch.as_tensor(np.array(batch_obs), dtype=torch.float32, device=DEVICE)
        acts = torch.as_tensor(batch_actions, device=DEVICE)
        returns = torch.as_tensor(np.concatenate(batch_returns), device=DEVICE)

        # REINFORCE with baseline: the advantage G_t - v(S_t) weighs log pi(A_t | S_t); the
        # baseline regresses on G_t. An entropy bonus keeps the policy from collapsing early.
        distribution = model.distribution(obs)
        values = model.value(obs).squeeze(-1)
        advantages = (returns - values).detach()
        policy_loss = -(advantages * distribution.log_prob(acts)).mean()
        value_loss = (returns - values).pow(2).mean()
        loss = policy_loss + 0.5 * value_loss - entropy_coef * distribution.entropy().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        # One report per update, at the number of episodes played so far.
        trial.report(float(np.mean(episode_returns[-n_batch:])), len(episode_returns))
        if trial.should_prune():
            env.close()
            raise optuna.TrialPruned()
    env.close()
    return float(np.mean(episode_returns[-max(1, episodes // 5) :]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--n-trials", type=int, default=30, help="trials to run, added to the study if it exists"
    )
    parser.add_argument(
        "--episodes",
        type=int,
        default=EPISODES,
        help="training episodes per trial; RLPruner waits for the first fifth",
    )
    parser.add_argument("--storage", default=STORAGE, help="Optuna storage URL of the study")
    args = parser.parse_args()

    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=args.storage,
        direction="maximize",
        sampler=RLSampler(seed=SEED),
        pruner=RLPruner(n_warmup_steps=args.episodes // 5),
        load_if_exists=True,
    )
    study.optimize(lambda trial: objective(trial, args.episodes), n_trials=args.n_trials)
    write_policy_note(study)

    best = study.best_trial
    print(f"Device: {DEVICE}")
    pruned = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.PRUNED,))
    print(f"Trials: {len(study.trials)}, pruned: {len(pruned)}")
    print(f"Best trial #{best.number}: mean return {best.value:.1f} (500 is the maximum)")
    for name, value in best.params.items():
        print(f"    {name}: {value}")
    print(f"\nOpen the study in optuna-dashboard:\n    optuna-dashboard {args.storage}")


if __name__ == "__main__":
    main()
