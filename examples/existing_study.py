"""Drop RLSampler into a study another sampler started: its trials become the agent's history.

A study begins with Optuna's TPESampler on an SQLite file, then is loaded again with
``sampler=RLSampler()``: nothing else changes. RLSampler rebuilds everything it needs from the
trials in the storage; the TPE trials are history (they set the elites, the ranks and the state)
and the agent learns from its own moves only. The objective trains a small PyTorch network on
scikit-learn's digits, on CUDA when it is available, on the CPU otherwise.

    python examples/existing_study.py --n-history 30 --n-trials 30
    optuna-dashboard sqlite:///existing_study.db
"""

from __future__ import annotations

import argparse

import optuna
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
import torch
from torch import nn

from optuna_rl import RLPruner
from optuna_rl import RLSampler
from optuna_rl.dashboard import write_policy_note


# Configuration.
STORAGE = "sqlite:///existing_study.db"
STUDY_NAME = "digits-tpe-then-rl"
EPOCHS = 15
BATCH_SIZE = 128
SEED = 0

# Seeding and device.
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
    dropout = trial.suggest_float("dropout", 0.0, 0.5)
    torch.manual_seed(SEED + trial.number)
    model = nn.Sequential(
        nn.Linear(64, width), nn.ReLU(), nn.Dropout(dropout), nn.Linear(width, 10)
    ).to(DEVICE)
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--n-history",
        type=int,
        default=30,
        help="trials the study has from TPESampler first; only the missing ones are run",
    )
    parser.add_argument("--n-trials", type=int, default=30, help="trials RLSampler runs then")
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help="training epochs per trial, one report each"
    )
    parser.add_argument("--storage", default=STORAGE, help="Optuna storage URL of the study")
    args = parser.parse_args()

    def run(trial: optuna.Trial) -> float:
        return objective(trial, args.epochs)

    # 1. The study as it was: started with TPE (and Optuna's median pruner).
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=args.storage,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=SEED),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=3),
        load_if_exists=True,
    )
    study.optimize(run, n_trials=max(0, args.n_history - len(study.trials)))

    # 2. The drop-in: load the same study with RLSampler (and RLPruner) and go on.
    study = optuna.load_study(
        study_name=STUDY_NAME,
        storage=args.storage,
        sampler=RLSampler(seed=SEED),
        pruner=RLPruner(),
    )
    study.optimize(run, n_trials=args.n_trials)
    write_policy_note(study)

    # RLSampler says on every trial it samples who chose the parameters: the first word of the
    # `rl_sampler` user attr (the agent's move, `startup` or `independent`).
    actions = [
        t.user_attrs["rl_sampler"].split()[0] if "rl_sampler" in t.user_attrs else None
        for t in study.trials
    ]
    n_history = sum(action is None for action in actions)
    n_startup = sum(action == "startup" for action in actions)
    n_agent = len(actions) - n_history - n_startup
    best = study.best_trial
    print(f"Device: {DEVICE}")
    print(f"History trials (TPESampler): {n_history}")
    print(f"Agent trials (RLSampler): {n_agent}")
    if n_startup:
        print(f"Start-up trials (RLSampler's design): {n_startup}")
    print(
        f"Best trial #{best.number} ({best.user_attrs.get('rl_sampler', 'TPESampler')}): "
        f"validation accuracy {best.value:.4f}"
    )
    print(f"\nOpen the study in optuna-dashboard:\n    optuna-dashboard {args.storage}")


if __name__ == "__main__":
    main()
