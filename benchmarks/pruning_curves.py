"""Real learning curves for the pruning benchmark (``benchmarks/pruning.py``).

Each task trains every configuration of a random pool to the full horizon, on CPU with one
thread per process, and stores the curves with the configurations in
``benchmarks/results/pruning_curves_<task>.npz``. The benchmark only replays these curves, so
every pruner sees exactly the same trials and the comparison costs seconds, not hours.

Tasks (all data ship with scikit-learn or Gymnasium; nothing is downloaded):

- ``digits``: a two-hidden-layer PyTorch MLP on scikit-learn's ``load_digits`` (70/30 stratified
  split, standardised); the curve is the validation accuracy after each of 20 epochs
  (maximise). Hyperparameters: log learning rate, log weight decay, width, dropout, optimizer
  (Adam or SGD with momentum 0.9), batch size.
- ``cartpole``: REINFORCE with a learned state-value baseline on Gymnasium's ``CartPole-v1``;
  the curve is the mean undiscounted return of the episodes collected in each of 30 iterations
  (one policy update per iteration; maximise). Hyperparameters: log learning rate, discount,
  hidden width, log entropy coefficient, episodes per update.
- ``breast_cancer`` (held out: never looked at while the pruner is developed): a one-hidden-layer
  MLP on scikit-learn's ``load_breast_cancer``; the curve is the validation cross-entropy after
  each of 20 epochs (minimise, so the direction is checked too). Same hyperparameters as
  ``digits``.
- ``forest`` (held out, added with the prior pruning policy and never tuned on): a random forest
  from scikit-learn grown on ``load_digits`` (70/30 stratified split), 5 trees per step up to
  100; the curve is the validation log-loss after each of the 20 steps (minimise). A model
  family (bagged trees) and a kind of step (more trees, not more epochs) that neither the
  corpus nor the other tasks have. Hyperparameters: maximum depth, log maximum features, log
  minimum samples per leaf, split criterion, bootstrap and its sample fraction.

Run through ``python benchmarks/pruning.py --make-curves`` (see there). ``pruning_corpus.py``
builds the prior pruning policy's corpus with the same ``make_pool``, ``fit_epochs`` and
``train_reinforce``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import math
import multiprocessing
from typing import Any

import numpy as np
from pruning import CurvePool


WIDTHS = np.array([16, 32, 64, 128, 256])
BATCH_SIZES = np.array([16, 32, 64, 128, 256])
OPTIMIZERS = np.array(["adam", "sgd"])
POLICY_WIDTHS = np.array([16, 32, 64, 128])
EPISODES_PER_UPDATE = np.array([2, 4, 8, 16])


@dataclass(frozen=True)
class CurveTask:
    """How to draw a pool of configurations and train one of them to its full curve."""

    name: str
    metric: str
    direction: str
    horizon: int
    n_configs: int
    sample: Callable[[np.random.Generator, int], dict[str, np.ndarray]]
    train: Callable[[dict[str, Any], int, int], np.ndarray]


def _log_uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(math.log(low), math.log(high), n))


def sample_mlp_space(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """The supervised tasks' space: the six hyperparameters of the MLP and its optimizer."""
    return {
        "lr": _log_uniform(rng, 1e-4, 3e-1, n),
        "weight_decay": _log_uniform(rng, 1e-6, 1e-2, n),
        "width": rng.choice(WIDTHS, n),
        "dropout": rng.uniform(0.0, 0.5, n),
        "optimizer": rng.choice(OPTIMIZERS, n),
        "batch_size": rng.choice(BATCH_SIZES, n),
    }


def sample_reinforce_space(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """REINFORCE's space; the discount is drawn log-uniformly in its horizon ``1 / (1 - g)``."""
    return {
        "lr": _log_uniform(rng, 1e-4, 3e-2, n),
        "discount": 1.0 - _log_uniform(rng, 1e-3, 1e-1, n),
        "width": rng.choice(POLICY_WIDTHS, n),
        "entropy_coef": _log_uniform(rng, 1e-4, 5e-2, n),
        "episodes_per_update": rng.choice(EPISODES_PER_UPDATE, n),
    }


def _split(x: np.ndarray, y: np.ndarray) -> tuple[Any, Any, Any, Any]:
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    import torch

    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=0.3, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(x_train)
    return (
        torch.tensor(scaler.transform(x_train), dtype=torch.float32),
        torch.tensor(scaler.transform(x_val), dtype=torch.float32),
        torch.tensor(y_train, dtype=torch.int64),
        torch.tensor(y_val, dtype=torch.int64),
    )


def _train_mlp(
    params: dict[str, Any], seed: int, horizon: int, dataset: str, n_hidden: int
) -> np.ndarray:
    """Validation accuracy (``digits``) or cross-entropy (``breast_cancer``) per epoch."""
    import sklearn.datasets
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    loader = getattr(sklearn.datasets, f"load_{dataset}")
    x_train, x_val, y_train, y_val = _split(*loader(return_X_y=True))
    width = int(params["width"])
    layers: list[nn.Module] = []
    n_in = x_train.shape[1]
    for _ in range(n_hidden):
        layers += [nn.Linear(n_in, width), nn.ReLU(), nn.Dropout(float(params["dropout"]))]
        n_in = width
    model = nn.Sequential(*layers, nn.Linear(n_in, int(y_train.max()) + 1))
    score = accuracy if dataset == "digits" else nn.functional.cross_entropy
    return fit_epochs(
        model,
        params,
        (x_train, x_val, y_train, y_val),
        nn.functional.cross_entropy,
        score,
        horizon,
        seed,
    )


def accuracy(logits: Any, labels: Any) -> float:
    return float((logits.argmax(dim=1) == labels).float().mean())


def fit_epochs(
    model: Any,
    params: dict[str, Any],
    data: tuple[Any, Any, Any, Any],
    loss: Callable[[Any, Any], Any],
    score: Callable[[Any, Any], Any],
    horizon: int,
    seed: int,
) -> np.ndarray:
    """Train ``model`` on ``data = (x_train, x_val, y_train, y_val)`` for ``horizon`` epochs of
    shuffled mini-batches, scoring it on the validation part after each epoch.

    ``params`` gives ``lr``, ``weight_decay``, ``optimizer`` (``"adam"``, or ``"sgd"`` with
    momentum 0.9) and ``batch_size``. The caller seeds PyTorch before building ``model``.
    """
    import torch

    x_train, x_val, y_train, y_val = data
    lr, weight_decay = float(params["lr"]), float(params["weight_decay"])
    optimizer: torch.optim.Optimizer
    if params["optimizer"] == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        optimizer = torch.optim.SGD(
            model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay
        )
    batch_size = int(params["batch_size"])
    generator = torch.Generator().manual_seed(seed)
    curve = np.empty(horizon)
    for epoch in range(horizon):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss(model(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            curve[epoch] = float(score(model(x_val), y_val))
    return curve


def train_digits(params: dict[str, Any], seed: int, horizon: int) -> np.ndarray:
    return _train_mlp(params, seed, horizon, "digits", n_hidden=2)


def train_breast_cancer(params: dict[str, Any], seed: int, horizon: int) -> np.ndarray:
    return _train_mlp(params, seed, horizon, "breast_cancer", n_hidden=1)


def train_cartpole(params: dict[str, Any], seed: int, horizon: int) -> np.ndarray:
    return train_reinforce(params, seed, horizon, "CartPole-v1")


FOREST_DEPTHS = np.array([2, 3, 4, 6, 8, 12, 16, 0])
"""Maximum tree depths of the ``forest`` task; 0 stands for unlimited."""
FOREST_CRITERIA = np.array(["gini", "entropy"])
FOREST_TREES_PER_STEP = 5


def sample_forest_space(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """The random forest's space."""
    return {
        "max_depth": rng.choice(FOREST_DEPTHS, n),
        "max_features": _log_uniform(rng, 0.02, 1.0, n),
        "min_samples_leaf": np.round(_log_uniform(rng, 1.0, 64.0, n)).astype(np.int64),
        "criterion": rng.choice(FOREST_CRITERIA, n),
        "bootstrap": rng.random(n) < 0.7,
        "max_samples": rng.uniform(0.1, 1.0, n),
    }


def train_forest(params: dict[str, Any], seed: int, horizon: int) -> np.ndarray:
    """Validation log-loss of a random forest on digits after each step of
    :data:`FOREST_TREES_PER_STEP` more trees (``warm_start``)."""
    import sklearn.datasets
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split

    x, y = sklearn.datasets.load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=0.3, stratify=y, random_state=0
    )
    bootstrap = bool(params["bootstrap"])
    forest = RandomForestClassifier(
        n_estimators=0,
        max_depth=int(params["max_depth"]) or None,
        max_features=float(params["max_features"]),
        min_samples_leaf=int(params["min_samples_leaf"]),
        criterion=str(params["criterion"]),
        bootstrap=bootstrap,
        max_samples=float(params["max_samples"]) if bootstrap else None,
        warm_start=True,
        random_state=seed,
        n_jobs=1,
    )
    curve = np.empty(horizon)
    for step in range(horizon):
        forest.set_params(n_estimators=FOREST_TREES_PER_STEP * (step + 1))
        forest.fit(x_train, y_train)
        curve[step] = log_loss(y_val, forest.predict_proba(x_val), labels=forest.classes_)
    return curve


def _draw_action(logits: np.ndarray, u: float) -> int:
    """Inverse-CDF draw from ``softmax(logits)`` with the uniform ``u``, counting from the last
    action down (action ``n - 1`` when ``u < p(n - 1)``); two actions use the logistic closed
    form, cheaper per environment step."""
    if len(logits) == 2:
        margin = min(max(float(logits[0] - logits[1]), -50.0), 50.0)
        return int(u < 1.0 / (1.0 + math.exp(margin)))
    p = np.exp(logits - logits.max())
    tail = np.cumsum(p[::-1]) / p.sum()
    return len(logits) - 1 - min(int(np.searchsorted(tail, u, side="right")), len(logits) - 1)


def train_reinforce(params: dict[str, Any], seed: int, horizon: int, env_id: str) -> np.ndarray:
    """REINFORCE with a state-value baseline (Sutton & Barto, 2018, sec. 13.4) on a Gymnasium
    environment with a vector observation and discrete actions.

    The policy acts through a NumPy copy of its weights (the same function, without the
    per-step cost of autograd); the update recomputes log-probabilities in PyTorch over the
    whole batch of episodes.
    """
    import gymnasium as gym
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = gym.make(env_id)
    n_obs, n_actions = env.observation_space.shape[0], int(env.action_space.n)
    width = int(params["width"])
    policy = nn.Sequential(nn.Linear(n_obs, width), nn.Tanh(), nn.Linear(width, n_actions))
    value = nn.Sequential(nn.Linear(n_obs, width), nn.Tanh(), nn.Linear(width, 1))
    lr = float(params["lr"])
    optimizer = torch.optim.Adam([*policy.parameters(), *value.parameters()], lr=lr)
    discount = float(params["discount"])
    entropy_coef = float(params["entropy_coef"])
    curve = np.empty(horizon)
    for iteration in range(horizon):
        w1, b1, w2, b2 = (p.detach().numpy().copy() for p in policy.parameters())
        states: list[np.ndarray] = []
        actions: list[int] = []
        returns_to_go: list[float] = []
        episode_returns = []
        for episode in range(int(params["episodes_per_update"])):
            obs, _ = env.reset(seed=int(seed * 100_003 + iteration * 101 + episode))
            rewards: list[float] = []
            done = False
            while not done:
                action = _draw_action(np.tanh(obs @ w1.T + b1) @ w2.T + b2, rng.random())
                states.append(obs)
                actions.append(action)
                obs, reward, terminated, truncated, _ = env.step(action)
                rewards.append(float(reward))
                done = terminated or truncated
            episode_returns.append(sum(rewards))
            g = 0.0
            to_go = []
            for reward in reversed(rewards):
                g = reward + discount * g
                to_go.append(g)
            returns_to_go += to_go[::-1]
        curve[iteration] = float(np.mean(episode_returns))
        x = torch.tensor(np.array(states), dtype=torch.float32)
        g_t = torch.tensor(returns_to_go, dtype=torch.float32)
        baseline = value(x).squeeze(1)
        advantage = g_t - baseline.detach()
        advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
        log_probs = torch.log_softmax(policy(x), dim=1)
        chosen = log_probs[torch.arange(len(actions)), torch.tensor(actions)]
        entropy = -(log_probs.exp() * log_probs).sum(dim=1).mean()
        scale = g_t.abs().mean() + 1e-8
        value_loss = ((g_t - baseline) / scale).pow(2).mean()
        loss = -(chosen * advantage).mean() - entropy_coef * entropy + 0.5 * value_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    env.close()
    return curve


TASKS: dict[str, CurveTask] = {
    "digits": CurveTask(
        "digits", "validation accuracy", "maximize", 20, 400, sample_mlp_space, train_digits
    ),
    "cartpole": CurveTask(
        "cartpole", "mean return", "maximize", 30, 400, sample_reinforce_space, train_cartpole
    ),
    "breast_cancer": CurveTask(
        "breast_cancer",
        "validation cross-entropy",
        "minimize",
        20,
        400,
        sample_mlp_space,
        train_breast_cancer,
    ),
    "forest": CurveTask(
        "forest", "validation log-loss", "minimize", 20, 400, sample_forest_space, train_forest
    ),
}


def _train_one(job: tuple[CurveTask, dict[str, Any], int]) -> tuple[int, np.ndarray]:
    task, params, index = job
    return index, task.train(params, 1000 + index, task.horizon)


def make_pool(
    task: str | CurveTask,
    n_configs: int | None = None,
    processes: int = 2,
    progress: bool = True,
) -> CurvePool:
    """Train every configuration of ``task``'s pool (seeded, so rerunning reproduces it).

    Args:
        task: A :class:`CurveTask`, or the name of one of :data:`TASKS`.
        n_configs: Configurations to train (default ``task.n_configs``).
        processes: Worker processes, at most 2; 1 trains in this process.
        progress: Show a progress bar.
    """
    from tqdm import tqdm

    if isinstance(task, str):
        task = TASKS[task]
    n = n_configs or task.n_configs
    params = task.sample(np.random.default_rng(12345), n)
    jobs = [(task, {k: v[i].item() for k, v in params.items()}, i) for i in range(n)]
    curves = np.empty((n, task.horizon))
    bar = {"total": n, "desc": f"curves {task.name}", "disable": not progress}
    if processes <= 1:
        for index, curve in tqdm(map(_train_one, jobs), **bar):
            curves[index] = curve
    else:
        with multiprocessing.Pool(processes=min(processes, 2)) as pool:
            for index, curve in tqdm(pool.imap_unordered(_train_one, jobs), **bar):
                curves[index] = curve
    return CurvePool(task.name, task.metric, task.direction, curves, params)
