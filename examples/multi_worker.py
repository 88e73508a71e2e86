"""Several worker processes, one per GPU where there are GPUs, share one study through storage.

Nothing but the storage is shared: RLSampler and RLPruner rebuild the agents from the trials in
it, so every worker samples with the same Q-table (see ``optuna_rl/core/fold.py``) and a worker
may join, die or restart at any time.

On one machine, a Journal file is enough (the default here); this starts 4 workers and waits::

    python examples/multi_worker.py --n-workers 4 --n-trials 80

On several machines, use PostgreSQL. Start a server once (Debian/Ubuntu)::

    sudo apt-get install postgresql
    sudo -u postgres createuser --pwprompt optuna
    sudo -u postgres createdb --owner optuna optuna
    # listen on the network: set listen_addresses in postgresql.conf and allow the workers'
    # addresses in pg_hba.conf, then: sudo systemctl restart postgresql

then start the workers of each machine with the same URL (``pip install psycopg2-binary``)::

    python examples/multi_worker.py --n-workers 8 --n-trials 400 \\
        --storage postgresql://optuna:PASSWORD@db-host:5432/optuna

or start single workers yourself, e.g. one per GPU::

    CUDA_VISIBLE_DEVICES=0 python examples/multi_worker.py --worker 0 --n-trials 50 \\
        --storage postgresql://optuna:PASSWORD@db-host:5432/optuna

Watch the study while it runs: ``optuna-dashboard <storage URL>`` (for the Journal file:
``optuna-dashboard multi_worker.journal``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import optuna
from optuna.storages import BaseStorage
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
import torch
from torch import nn

from optuna_rl import RLPruner
from optuna_rl import RLSampler
from optuna_rl.dashboard import write_policy_note


# Configuration.
JOURNAL_FILE = "multi_worker.journal"
STUDY_NAME = "digits-multi-worker"
EPOCHS = 15
BATCH_SIZE = 64
SEED = 0

# Seeding and device. Each worker sees only its own GPU (CUDA_VISIBLE_DEVICES), as "cuda".
torch.manual_seed(SEED)
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.set_num_threads(1)  # Networks this small run fastest on one CPU thread.

# Data: 8x8 digit images that ship with scikit-learn (no download).
digits = load_digits()
x_train, x_valid, y_train, y_valid = train_test_split(
    digits.data / 16.0, digits.target, test_size=0.25, random_state=SEED, stratify=digits.target
)
X_TRAIN = torch.tensor(x_train, dtype=torch.float32, device=DEVICE)
Y_TRAIN = torch.tensor(y_train, dtype=torch.long, device=DEVICE)
X_VALID = torch.tensor(x_valid, dtype=torch.float32, device=DEVICE)
Y_VALID = torch.tensor(y_valid, dtype=torch.long, device=DEVICE)


def objective(trial: optuna.Trial, epochs: int = EPOCHS) -> float:
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
        order = torch.randperm(len(X_TRAIN)).to(DEVICE)
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(X_TRAIN[batch]), Y_TRAIN[batch]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(X_VALID).argmax(dim=1) == Y_VALID).float().mean().item()
        trial.report(accuracy, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return accuracy


def open_storage(storage: str | None, journal_file: str) -> str | BaseStorage:
    """The RDB URL if one was given, else a Journal storage on a file (safe across processes
    on one machine; its lock file sits beside it)."""
    if storage:
        return storage
    return JournalStorage(JournalFileBackend(journal_file))


def load(args: argparse.Namespace) -> optuna.Study:
    return optuna.create_study(
        study_name=STUDY_NAME,
        storage=open_storage(args.storage, args.journal_file),
        direction="maximize",
        # One seed for all workers: per-trial randomness comes from the seed and the trial
        # number, which Optuna makes unique across workers.
        sampler=RLSampler(seed=SEED),
        pruner=RLPruner(),
        load_if_exists=True,
    )


def run_worker(args: argparse.Namespace) -> None:
    study = load(args)
    study.optimize(lambda trial: objective(trial, args.epochs), n_trials=args.n_trials)
    gpu = os.environ.get("CUDA_VISIBLE_DEVICES", "-")
    print(f"worker {args.worker} (device {DEVICE}, CUDA_VISIBLE_DEVICES={gpu}) done", flush=True)


def launch(args: argparse.Namespace) -> None:
    """Create the study once, then start the workers as processes of this script and wait."""
    study = load(args)
    n_gpus = torch.cuda.device_count()
    workers = []
    for index in range(args.n_workers):
        share = args.n_trials // args.n_workers + (index < args.n_trials % args.n_workers)
        env = dict(os.environ)
        if n_gpus > 0:
            env["CUDA_VISIBLE_DEVICES"] = str(index % n_gpus)
        command = [sys.executable, __file__, "--worker", str(index), "--n-trials", str(share)]
        command += ["--epochs", str(args.epochs), "--journal-file", args.journal_file]
        if args.storage:
            command += ["--storage", args.storage]
        workers.append(subprocess.Popen(command, env=env))
    failed = [index for index, worker in enumerate(workers) if worker.wait() != 0]
    if failed:
        sys.exit(f"workers {failed} failed")

    write_policy_note(study)
    trials = study.trials
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
    best = study.best_trial
    print(f"Workers: {args.n_workers}, GPUs: {n_gpus}, trials: {len(trials)}, pruned: {pruned}")
    print(f"Best trial #{best.number}: validation accuracy {best.value:.4f}")
    for name, value in best.params.items():
        print(f"    {name}: {value}")
    target = args.storage or args.journal_file
    print(f"\nOpen the study in optuna-dashboard:\n    optuna-dashboard {target}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--n-workers", type=int, default=2, help="worker processes to launch on this machine"
    )
    parser.add_argument(
        "--n-trials", type=int, default=40, help="trials in total, or per worker with --worker"
    )
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help="training epochs per trial, one report each"
    )
    parser.add_argument(
        "--storage",
        help="an RDB URL, e.g. postgresql://user:pw@host/db; without it, --journal-file",
    )
    parser.add_argument(
        "--journal-file", default=JOURNAL_FILE, help="Journal storage file, used without --storage"
    )
    parser.add_argument(
        "--worker", type=int, help="run as this worker (its index) instead of launching workers"
    )
    args = parser.parse_args()
    if args.worker is None:
        launch(args)
    else:
        run_worker(args)


if __name__ == "__main__":
    main()
