"""Quickstart: tune a small PyTorch network on scikit-learn's digits with RLSampler and RLPruner.

The study lives in an embedded SQLite file, so it can be stopped and resumed, shared by several
workers, and opened in optuna-dashboard while it runs:

    python examples/quickstart.py --n-trials 40
    optuna-dashboard sqlite:///quickstart.db

The network trains on CUDA when it is available, on the CPU otherwise.
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
from optuna_rl.dashboard import PolicyNoteCallback
from optuna_rl.dashboard import write_policy_note


# Configuration.
STORAGE = "sqlite:///quickstart.db"
STUDY_NAME = "digits-mlp"
EPOCHS = 12
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


def build_model(trial: optuna.Trial) -> nn.Module:
    width = trial.suggest_int("width", 16, 256, log=True)
    dropout = trial.suggest_float("dropout", 0.0, 0.5)
    activation = trial.suggest_categorical("activation", ["relu", "tanh", "gelu"])
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}[activation]
    return nn.Sequential(
        nn.Linear(64, width), act(), nn.Dropout(dropout), nn.Linear(width, 10)
    ).to(DEVICE)


def objective(trial: optuna.Trial, epochs: int = EPOCHS) -> float:
    model = build_model(trial)
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    weight_decay = trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True)
    batch_size = trial.suggest_categorical("batch_size", [16, 32, 64, 128])
    optimizer_name = trial.suggest_categorical("optimizer", ["adam", "sgd"])
    if optimizer_name == "adam":
        optimizer: torch.optim.Optimizer = torch.optim.Adam(
            model.parameters(), lr=lr, weight_decay=weight_decay
        )
    else:
        optimizer = torch.optim.SGD(
            model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay
        )
    generator = torch.Generator(device="cpu").manual_seed(SEED + trial.number)
    accuracy = 0.0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(X_TRAIN), generator=generator).to(DEVICE)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(X_TRAIN[batch]), Y_TRAIN[batch])
            loss.backward()
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
        "--n-trials", type=int, default=40, help="trials to run, added to the study if it exists"
    )
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help="training epochs per trial, one report each"
    )
    parser.add_argument("--storage", default=STORAGE, help="Optuna storage URL of the study")
    args = parser.parse_args()

    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=args.storage,
        direction="maximize",
        sampler=RLSampler(seed=SEED),
        pruner=RLPruner(),
        load_if_exists=True,
    )
    study.optimize(
        lambda trial: objective(trial, args.epochs),
        n_trials=args.n_trials,
        show_progress_bar=True,
        # Keeps the learned policy in the study's note on optuna-dashboard, every 10 trials.
        callbacks=[PolicyNoteCallback()],
    )
    # The final policy (a no-op without optuna-dashboard installed).
    write_policy_note(study)

    best = study.best_trial
    print(f"Device: {DEVICE}")
    print(f"Best trial #{best.number}: validation accuracy {best.value:.4f}")
    for name, value in best.params.items():
        print(f"    {name}: {value}")
    print("What the agent did on that trial:")
    for name, value in sorted(best.user_attrs.items()):
        print(f"    {name}: {value}")
    print(f"\nOpen the study in optuna-dashboard:\n    optuna-dashboard {args.storage}")


if __name__ == "__main__":
    main()
