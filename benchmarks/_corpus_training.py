"""Real training runs for the pruning corpus (``benchmarks/pruning_corpus.py``).

Each ``train_*`` function trains one configuration and returns its curve, one value per step
(an epoch, a boosting stage or a learner iteration); with the configuration spaces beside them
they plug into ``pruning_curves.CurveTask``. Every run is seeded and uses one CPU thread. A run
that cannot go on (the library raises on an overflow, or a score is not finite) stops there:
the rest of its curve is NaN, as ``pruning_corpus.mark_divergence`` then enforces for any
non-finite value.

Data sets ship with scikit-learn (generators with fixed seeds, or ``load_*``): 70/30 split with
``random_state=0`` (stratified for classification), features standardised on the training part,
regression targets too (so a validation MSE of 1 is what predicting the mean scores).
"""

from __future__ import annotations

from collections.abc import Callable
import functools
import math
from typing import Any

import numpy as np
from pruning_curves import BATCH_SIZES
from pruning_curves import OPTIMIZERS
from pruning_curves import WIDTHS
from pruning_curves import _log_uniform
from pruning_curves import _split
from pruning_curves import accuracy
from pruning_curves import fit_epochs
from pruning_curves import sample_reinforce_space


Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Space = dict[str, np.ndarray]

REGRESSION = ("diabetes", "regression", "friedman1", "friedman3")
DIVERGENCE_MESSAGES = ("non-finite", "overflow", "NaN", "infinity")
"""Words in scikit-learn's ``ValueError`` when a run blew up (SGD's "Floating-point
under-/overflow", MLP's "non-finite parameter weights", a metric's "Input contains NaN");
any other ``ValueError`` is a bug and propagates."""


def _raw_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    import sklearn.datasets as datasets

    if name in ("wine", "digits", "diabetes"):
        return getattr(datasets, f"load_{name}")(return_X_y=True)
    if name == "classification":
        return datasets.make_classification(
            n_samples=3000,
            n_features=20,
            n_informative=8,
            n_redundant=4,
            n_classes=3,
            flip_y=0.05,
            class_sep=0.8,
            random_state=0,
        )
    if name == "regression":
        return datasets.make_regression(
            n_samples=2000,
            n_features=30,
            n_informative=10,
            effective_rank=8,
            noise=0.5,
            random_state=0,
        )
    if name == "friedman1":
        return datasets.make_friedman1(n_samples=2000, noise=1.0, random_state=0)
    if name == "friedman3":
        return datasets.make_friedman3(n_samples=2000, noise=0.05, random_state=0)
    if name == "hastie":
        x, y = datasets.make_hastie_10_2(n_samples=4000, random_state=0)
        return x, (y > 0).astype(np.int64)
    if name == "moons":
        return datasets.make_moons(n_samples=1500, noise=0.35, random_state=0)
    raise ValueError(f"unknown data set {name!r}")


@functools.cache
def dataset(name: str) -> Data:
    """``(x_train, x_val, y_train, y_val)`` as float32 features and int64 labels or float32
    standardised targets."""
    x, y = _raw_data(name)
    if name not in REGRESSION:
        x_train, x_val, y_train, y_val = (t.numpy() for t in _split(x, y))
        return x_train, x_val, y_train, y_val
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(x_train)
    mean, std = y_train.mean(), y_train.std()
    return (
        scaler.transform(x_train).astype(np.float32),
        scaler.transform(x_val).astype(np.float32),
        ((y_train - mean) / std).astype(np.float32),
        ((y_val - mean) / std).astype(np.float32),
    )


def _diverged(error: ValueError) -> bool:
    return any(word in str(error) for word in DIVERGENCE_MESSAGES)


def _sklearn_score(metric: str, model: Any, x: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import log_loss

    if metric == "accuracy":
        return float(np.mean(model.predict(x) == y))
    if metric == "log_loss":
        return float(log_loss(y, model.predict_proba(x), labels=model.classes_))
    return float(np.mean((model.predict(x) - y) ** 2))


# Linear models trained by SGD, one epoch per step (scikit-learn's ``partial_fit``).

SGD_CLASSIFIER_LOSSES = np.array(["hinge", "log_loss", "modified_huber", "squared_hinge"])
SGD_REGRESSOR_LOSSES = np.array(["squared_error", "huber", "epsilon_insensitive"])


def sample_sgd_space(
    rng: np.random.Generator, n: int, losses: np.ndarray, max_eta0: float
) -> Space:
    """Step size ``eta0`` from too slow (1e-5) to diverging (``max_eta0``); the ``"optimal"``
    schedule ignores it for ``1 / (alpha (t + t0))``, which diverges when ``alpha`` is tiny."""
    return {
        "loss": rng.choice(losses, n),
        "penalty": rng.choice(np.array(["l2", "l1", "elasticnet"]), n),
        "alpha": _log_uniform(rng, 1e-7, 1e-1, n),
        "learning_rate": rng.choice(np.array(["constant", "invscaling", "optimal"]), n),
        "eta0": _log_uniform(rng, 1e-5, max_eta0, n),
        "average": rng.random(n) < 0.3,
    }


def train_sgd(params: dict[str, Any], seed: int, horizon: int, data: str) -> np.ndarray:
    """Validation accuracy (classification) or MSE (regression) after each epoch."""
    from sklearn.linear_model import SGDClassifier
    from sklearn.linear_model import SGDRegressor

    x_train, x_val, y_train, y_val = dataset(data)
    settings = {k: params[k] for k in ("loss", "penalty", "alpha", "learning_rate", "eta0")}
    fit_kwargs: dict[str, Any] = {}
    model: Any
    if data in REGRESSION:
        model = SGDRegressor(**settings, average=bool(params["average"]), random_state=seed)
        metric = "mse"
    else:
        model = SGDClassifier(**settings, average=bool(params["average"]), random_state=seed)
        fit_kwargs["classes"] = np.unique(y_train)
        metric = "accuracy"
    return _partial_fit_curve(model, fit_kwargs, (x_train, x_val, y_train, y_val), metric, horizon)


def _partial_fit_curve(
    model: Any, fit_kwargs: dict[str, Any], data: Data, metric: str, horizon: int
) -> np.ndarray:
    x_train, x_val, y_train, y_val = data
    curve = np.full(horizon, np.nan)
    for step in range(horizon):
        try:
            with np.errstate(all="ignore"):
                model.partial_fit(x_train, y_train, **fit_kwargs)
                curve[step] = _sklearn_score(metric, model, x_val, y_val)
        except ValueError as error:
            if not _diverged(error):
                raise
            break
    return curve


# scikit-learn's multi-layer perceptrons, one epoch per step.


def sample_sklearn_mlp_space(rng: np.random.Generator, n: int) -> Space:
    return {
        "learning_rate_init": _log_uniform(rng, 1e-5, 1.0, n),
        "solver": rng.choice(np.array(["adam", "sgd"]), n),
        "alpha": _log_uniform(rng, 1e-6, 1e-1, n),
        "width": rng.choice(WIDTHS[:4], n),
        "depth": rng.choice(np.array([1, 2]), n),
        "activation": rng.choice(np.array(["relu", "tanh"]), n),
        "batch_size": rng.choice(BATCH_SIZES, n),
    }


def train_sklearn_mlp(params: dict[str, Any], seed: int, horizon: int, data: str) -> np.ndarray:
    """Validation log-loss (classification) or MSE (regression) after each epoch."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.neural_network import MLPRegressor

    x_train, x_val, y_train, y_val = dataset(data)
    settings = {
        "hidden_layer_sizes": (int(params["width"]),) * int(params["depth"]),
        "activation": params["activation"],
        "solver": params["solver"],
        "alpha": float(params["alpha"]),
        "batch_size": int(params["batch_size"]),
        "learning_rate_init": float(params["learning_rate_init"]),
        "random_state": seed,
    }
    if data in REGRESSION:
        return _partial_fit_curve(MLPRegressor(**settings), {}, dataset(data), "mse", horizon)
    fit_kwargs = {"classes": np.unique(y_train)}
    model = MLPClassifier(**settings)
    return _partial_fit_curve(model, fit_kwargs, dataset(data), "log_loss", horizon)


# Gradient boosting: the curve of a fitted ensemble comes free from its staged predictions.


def sample_boosting_space(rng: np.random.Generator, n: int) -> Space:
    """Shrinkage from too slow (1e-3: 50 stages barely move off the prior) to overshooting."""
    return {
        "learning_rate": _log_uniform(rng, 1e-3, 2.0, n),
        "max_depth": rng.integers(1, 7, n),
        "subsample": rng.uniform(0.3, 1.0, n),
        "min_samples_leaf": np.round(_log_uniform(rng, 1, 60, n)).astype(np.int64),
        "max_features": rng.choice(np.array(["sqrt", "all"]), n),
    }


def train_boosting(
    params: dict[str, Any], seed: int, horizon: int, data: str, metric: str
) -> np.ndarray:
    """``metric`` on the validation part after each of ``horizon`` boosting stages."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.metrics import log_loss

    x_train, x_val, y_train, y_val = dataset(data)
    settings = {
        "n_estimators": horizon,
        "learning_rate": float(params["learning_rate"]),
        "max_depth": int(params["max_depth"]),
        "subsample": float(params["subsample"]),
        "min_samples_leaf": int(params["min_samples_leaf"]),
        "max_features": None if params["max_features"] == "all" else params["max_features"],
        "random_state": seed,
    }
    if data in REGRESSION:
        regressor = GradientBoostingRegressor(**settings).fit(x_train, y_train)
        staged = regressor.staged_predict(x_val)
        return np.array([np.mean((p - y_val) ** 2) for p in staged])
    classifier = GradientBoostingClassifier(**settings).fit(x_train, y_train)
    if metric == "accuracy":
        return np.array([np.mean(p == y_val) for p in classifier.staged_predict(x_val)])
    staged = classifier.staged_predict_proba(x_val)
    return np.array([log_loss(y_val, p, labels=classifier.classes_) for p in staged])


# PyTorch networks, one epoch per step (``pruning_curves.fit_epochs``).


def sample_torch_space(rng: np.random.Generator, n: int) -> Space:
    """``pruning_curves.sample_mlp_space`` with the learning rate widened to 1e-5 (too slow
    for 20 epochs) .. 1 (diverges), and 1 to 3 hidden layers."""
    space = {
        "lr": _log_uniform(rng, 1e-5, 1.0, n),
        "weight_decay": _log_uniform(rng, 1e-6, 1e-2, n),
        "width": rng.choice(WIDTHS, n),
        "depth": rng.choice(np.array([1, 2, 3]), n),
        "dropout": rng.uniform(0.0, 0.5, n),
        "optimizer": rng.choice(OPTIMIZERS, n),
        "batch_size": rng.choice(BATCH_SIZES, n),
    }
    return space


def sample_cnn_space(rng: np.random.Generator, n: int) -> Space:
    space = sample_torch_space(rng, n)
    del space["width"], space["depth"]
    space["channels"] = rng.choice(np.array([4, 8, 16]), n)
    return space


def _mse(prediction: Any, target: Any) -> Any:
    return (prediction.squeeze(1) - target).pow(2).mean()


def _torch_data(data: str) -> tuple[Any, Any, Any, Any]:
    import torch

    return tuple(torch.from_numpy(a) for a in dataset(data))  # type: ignore[return-value]


def _scores() -> dict[str, Callable[[Any, Any], Any]]:
    from torch import nn

    return {"accuracy": accuracy, "cross_entropy": nn.functional.cross_entropy, "mse": _mse}


def train_torch_mlp(
    params: dict[str, Any], seed: int, horizon: int, data: str, metric: str
) -> np.ndarray:
    """A ReLU MLP with dropout; cross-entropy or MSE training loss, ``metric`` on validation."""
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    x_train, x_val, y_train, y_val = _torch_data(data)
    regression = data in REGRESSION
    n_out = 1 if regression else int(y_train.max()) + 1
    width, n_in = int(params["width"]), x_train.shape[1]
    layers: list[nn.Module] = []
    for _ in range(int(params["depth"])):
        layers += [nn.Linear(n_in, width), nn.ReLU(), nn.Dropout(float(params["dropout"]))]
        n_in = width
    model = nn.Sequential(*layers, nn.Linear(n_in, n_out))
    loss = _mse if regression else nn.functional.cross_entropy
    score = _scores()[metric]
    return fit_epochs(model, params, (x_train, x_val, y_train, y_val), loss, score, horizon, seed)


def train_cnn_digits(params: dict[str, Any], seed: int, horizon: int) -> np.ndarray:
    """Two 3x3 convolutions, each followed by 2x2 max-pooling, on the 8x8 digit images;
    validation accuracy after each epoch."""
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    channels = int(params["channels"])
    model = nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, channels, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(channels, 2 * channels, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(float(params["dropout"])),
        nn.Linear(2 * channels * 4, 10),
    )
    loss = nn.functional.cross_entropy
    return fit_epochs(model, params, _torch_data("digits"), loss, accuracy, horizon, seed)


# Reinforcement learning on Gymnasium's classic-control tasks, one learner iteration per step.


def sample_acrobot_space(rng: np.random.Generator, n: int) -> Space:
    """``pruning_curves.sample_reinforce_space`` with a wider learning rate (1e-5 .. 0.1) and
    fewer episodes per update (Acrobot's episodes last up to 500 steps)."""
    space = sample_reinforce_space(rng, n)
    space["lr"] = _log_uniform(rng, 1e-5, 1e-1, n)
    space["episodes_per_update"] = rng.choice(np.array([1, 2, 4]), n)
    return space


START_SEED = 2024
"""Seed of the first start state of the cross-entropy method's episodes."""


def sample_cem_space(rng: np.random.Generator, n: int) -> Space:
    """The cross-entropy method's settings; ``smoothing`` plays the learning rate's part."""
    return {
        "population": rng.choice(np.array([6, 10, 16]), n),
        "elite_fraction": rng.uniform(0.1, 0.5, n),
        "initial_std": _log_uniform(rng, 0.03, 5.0, n),
        "smoothing": _log_uniform(rng, 0.03, 1.0, n),
        "extra_noise": _log_uniform(rng, 1e-4, 0.3, n),
        "width": rng.choice(np.array([0, 4, 8]), n),
    }


def _policy_shapes(n_obs: int, n_out: int, width: int) -> list[tuple[int, ...]]:
    if width == 0:
        return [(n_obs, n_out), (n_out,)]
    return [(n_obs, width), (width,), (width, n_out), (n_out,)]


def _act(weights: list[np.ndarray], obs: np.ndarray) -> np.ndarray:
    h = obs
    for w, b in zip(weights[:-2:2], weights[1:-2:2], strict=True):
        h = np.tanh(h @ w + b)
    return h @ weights[-2] + weights[-1]


def _episode_return(env: Any, policy: Callable[[np.ndarray], Any], seed: int) -> float:
    obs, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        total += float(reward)
        done = terminated or truncated
    return total


def train_cem(
    params: dict[str, Any], seed: int, horizon: int, env_id: str, starts: int
) -> np.ndarray:
    """The cross-entropy method (Rubinstein & Kroese, 2004) on the weights of a linear or
    one-hidden-layer tanh policy for a continuous-action task, with Szita & Lőrincz's (2006)
    extra noise against early collapse. A candidate's score is its mean undiscounted return
    over ``starts`` episodes from start states that are the same for every candidate, iteration
    and configuration (a fixed validation set, in effect: the curve shows the search rather
    than the luck of the start states). The curve is the mean score of each iteration's
    candidates (maximise).

    Observations are scaled to [-1, 1] by the space's bounds; the action is
    ``high * tanh(output)``.
    """
    import gymnasium as gym

    rng = np.random.default_rng(seed)
    env = gym.make(env_id)
    low, high = env.observation_space.low, env.observation_space.high
    centre, half_range = (high + low) / 2, (high - low) / 2
    action_high = env.action_space.high
    shapes = _policy_shapes(len(low), env.action_space.shape[0], int(params["width"]))
    sizes = [math.prod(s) for s in shapes]
    mean = np.zeros(sum(sizes))
    variance = np.full(sum(sizes), float(params["initial_std"]) ** 2)
    population = int(params["population"])
    n_elite = max(2, round(float(params["elite_fraction"]) * population))
    smoothing, extra_noise = float(params["smoothing"]), float(params["extra_noise"])
    seeds = [START_SEED + j for j in range(starts)]
    curve = np.empty(horizon)
    for iteration in range(horizon):
        candidates = mean + np.sqrt(variance) * rng.standard_normal((population, len(mean)))
        scores = np.empty(population)
        for k, flat in enumerate(candidates):
            parts = np.split(flat, np.cumsum(sizes)[:-1])
            weights = [p.reshape(s) for p, s in zip(parts, shapes, strict=True)]

            def policy(obs: np.ndarray, weights: list[np.ndarray] = weights) -> np.ndarray:
                return action_high * np.tanh(_act(weights, (obs - centre) / half_range))

            scores[k] = np.mean([_episode_return(env, policy, s) for s in seeds])
        curve[iteration] = scores.mean()
        elite = candidates[np.argsort(-scores)[:n_elite]]
        # Moving averages of the elite's moments, plus Szita & Lőrincz's constant noise
        # variance, which keeps the search from collapsing before it has found anything.
        mean = (1 - smoothing) * mean + smoothing * elite.mean(0)
        variance = (1 - smoothing) * variance + smoothing * elite.var(0) + extra_noise
    env.close()
    return curve
