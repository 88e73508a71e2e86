"""``plot_step_size``'s log axis labels powers of ten, written out, not plotly's default minor
ticks ("0.1, 9, 8, 7, ..."), and spans at least one whole decade so two of them show."""

from __future__ import annotations

import math

import optuna
import pytest

from optuna_rl import RLSampler
from optuna_rl.visualization import plot_step_size


def quadratic(trial: optuna.Trial) -> float:
    return (trial.suggest_float("x", -5.0, 5.0) - 1.0) ** 2 + trial.suggest_float("y", -5, 5) ** 2


@pytest.mark.parametrize("n_trials", [12, 60])
def test_step_size_axis_labels_whole_decades(n_trials: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=RLSampler(seed=0))
    study.optimize(quadratic, n_trials=n_trials)
    figure = plot_step_size(study)
    yaxis = figure.layout.yaxis
    assert yaxis.type == "log"
    # One tick per power of ten (on a log axis dtick is in decades), labelled as a plain
    # number: d3's "~g" writes 0.0001, 0.001, 0.01, 0.1, 1.
    assert yaxis.dtick == 1
    assert yaxis.tickformat == "~g"
    # The minor ticks are grid lines without labels.
    assert yaxis.minor.showgrid
    steps = [step for trace in figure.data for step in trace.y]
    low, high = yaxis.range
    assert low <= math.log10(min(steps)) and math.log10(max(steps)) <= high
    labelled = [k for k in range(-10, 3) if low <= k <= high]
    assert len(labelled) >= 2, (yaxis.range, min(steps), max(steps))


def test_step_size_axis_of_a_study_without_decisions_has_no_range() -> None:
    figure = plot_step_size(optuna.create_study())
    assert len(figure.data) == 0
    assert figure.layout.yaxis.range is None
    assert figure.layout.yaxis.dtick == 1
