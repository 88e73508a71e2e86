"""One study optimised by the workers of a Dask cluster, RLSampler and RLPruner included.

The study lives in a storage held by the Dask scheduler (``optuna_integration.DaskStorage``, from
the ``optuna-integration`` package); ``study.optimize`` is submitted to every worker, which gets
a pickled copy of the study, its sampler and its pruner. Nothing else is shared: the agents are
rebuilt from the trials in the storage, so every worker samples with the same Q-table.

Here the cluster is a ``LocalCluster`` of worker processes on this machine; on a real cluster,
connect with ``Client("tcp://scheduler:8786")`` instead and keep the rest::

    pip install "optuna-rl[dask,examples]"
    python examples/dask_workers.py --n-workers 2 --n-trials 40

By default the scheduler keeps the study in memory (it ends with the cluster); pass
``--storage sqlite:///dask.db`` (or a PostgreSQL URL) to keep it, and watch it with
``optuna-dashboard sqlite:///dask.db``.
"""

from __future__ import annotations

import argparse
import warnings

from distributed import Client
from distributed import LocalCluster
from distributed import wait
import optuna
from optuna_integration import DaskStorage
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
import torch
from torch import nn

from optuna_rl import RLPruner
from optuna_rl import RLSampler


# Configuration.
STUDY_NAME = "digits-dask"
EPOCHS = 10
BATCH_SIZE = 64
SEED = 0

# Seeding and device. Each Dask worker is a process of its own; on a GPU machine, give each
# worker its GPU (e.g. one `dask worker` per GPU with CUDA_VISIBLE_DEVICES set).
torch.manual_seed(SEED)
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_data() -> tuple[torch.Tensor, ...]:
    """8x8 digit images that ship with scikit-learn (no download), split once."""
    digits = load_digits()
    x_train, x_valid, y_train, y_valid = train_test_split(
        digits.data / 16.0,
        digits.target,
        test_size=0.25,
        random_state=SEED,
        stratify=digits.target,
    )
    return (
        torch.tensor(x_train, dtype=torch.float32, device=DEVICE),
        torch.tensor(y_train, dtype=torch.long, device=DEVICE),
        torch.tensor(x_valid, dtype=torch.float32, device=DEVICE),
        torch.tensor(y_valid, dtype=torch.long, device=DEVICE),
    )


def objective(trial: optuna.Trial, epochs: int = EPOCHS) -> float:
    """Train a one-hidden-layer network on digits; report the validation accuracy per epoch."""
    torch.set_num_threads(1)  # Networks this small run fastest on one CPU thread.
    x_train, y_train, x_valid, y_valid = load_data()
    width = trial.suggest_int("width", 8, 256, log=True)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    weight_decay = trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True)
    activation = trial.suggest_categorical("activation", ["relu", "tanh", "gelu"])
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}[activation]
    torch.manual_seed(SEED + trial.number)
    model = nn.Sequential(nn.Linear(64, width), act(), nn.Linear(width, 10)).to(DEVICE)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    accuracy = 0.0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x_train)).to(DEVICE)
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(x_valid).argmax(dim=1) == y_valid).float().mean().item()
        trial.report(accuracy, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return accuracy


def quiet() -> None:
    """Optuna's warnings and above only, in this process (each Dask worker is its own), and
    not the warning that DaskStorage is experimental (it is, in optuna-integration)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def optimize_quietly(study: optuna.Study, epochs: int, n_trials: int) -> None:
    """A worker's share of the trials."""
    quiet()
    study.optimize(lambda trial: objective(trial, epochs), n_trials=n_trials)


def optimize(client: Client, args: argparse.Namespace) -> optuna.Study:
    """Create the study in the scheduler's storage and run its trials on every worker."""
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=DaskStorage(args.storage, client=client),
        direction="maximize",
        # Unseeded: with several workers the order of the trials is not reproducible anyway.
        # The start-up design is still one design for all workers (scrambled by the study's
        # name), and each worker's independent sampler draws its own points for the first
        # trials (one seeded sampler pickled to every worker would draw the same ones).
        sampler=RLSampler(),
        pruner=RLPruner(),
        load_if_exists=True,
    )
    n_workers = len(client.scheduler_info()["workers"])
    futures = [
        client.submit(
            optimize_quietly,
            study,
            args.epochs,
            n_trials=args.n_trials // n_workers + (index < args.n_trials % n_workers),
            pure=False,
        )
        for index in range(n_workers)
    ]
    wait(futures)
    for future in futures:
        future.result()  # Raises here what a worker raised.
    return study


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--n-workers", type=int, default=2, help="Dask worker processes")
    parser.add_argument("--n-trials", type=int, default=40, help="trials in total")
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help="training epochs per trial, one report each"
    )
    parser.add_argument(
        "--storage",
        help="storage URL the scheduler opens, e.g. sqlite:///dask.db; without it, in memory",
    )
    args = parser.parse_args()
    quiet()
    cluster = LocalCluster(
        n_workers=args.n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,  # No web dashboard: no port to clash with.
    )
    with cluster, Client(cluster) as client:
        study = optimize(client, args)
        trials = study.trials
        pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
        best = study.best_trial
        print(f"Dask workers: {args.n_workers}, trials: {len(trials)}, pruned: {pruned}")
        print(f"Best trial #{best.number}: validation accuracy {best.value:.4f}")
        print(f"    chosen by: {best.user_attrs.get('rl_sampler', '-')}")
        for name, value in best.params.items():
            print(f"    {name}: {value}")
        agent = RLSampler().agent_for(study)
        print(f"The agent learned from {agent.n_updates} of its moves.")


if __name__ == "__main__":
    main()
