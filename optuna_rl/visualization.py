"""Plotly figures of what the agents did and learned, in the style of ``optuna.visualization``.

Every function takes a study and returns a :class:`plotly.graph_objects.Figure`. plotly is an
optional dependency (the ``dashboard`` extra: ``pip install "optuna-rl[dashboard]"``), imported
when a figure is made. The figures read the decisions :class:`~optuna_rl.RLSampler` and
:class:`~optuna_rl.RLPruner` wrote on the trials, so they work on a study loaded from storage
by another process.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING
from typing import Any

from optuna.trial import TrialState

from optuna_rl import _attrs
from optuna_rl._trials import recorded_decision
from optuna_rl._validation import check_study
from optuna_rl.sampler import RLSampler
from optuna_rl.sampler import rebuilder
from optuna_rl.sampling.moves import ACTIONS
from optuna_rl.sampling.results import Decision
from optuna_rl.sampling.state import N_STATES
from optuna_rl.sampling.state import describe_state


if TYPE_CHECKING:
    from types import ModuleType

    from optuna.study import Study
    from optuna.trial import FrozenTrial
    import plotly.graph_objects as go


__all__ = ["plot_action_use", "plot_pruning_decisions", "plot_q_table", "plot_step_size"]

STARTUP = "startup"
"""Name of the start-up design in the figures (trials sampled before the agent starts)."""


def plot_q_table(study: Study, *, sampler: RLSampler | None = None) -> go.Figure:
    """Plot the agent's Q-table as a heatmap: states (rows) by moves (columns).

    The agent is rebuilt from the study's trials as :meth:`RLSampler.agent_for` does: the
    sampler's initial table (by default one learned offline) updated by the study's results.
    Each cell shows the Q-value and, after a dot, how often the move was taken in that state in
    this study (nothing if never: the value is still the initial one).

    Example:

        .. code-block:: python

            import optuna
            from optuna_rl import RLSampler
            from optuna_rl.visualization import plot_q_table

            study = optuna.create_study(sampler=RLSampler(seed=0))
            study.optimize(lambda t: t.suggest_float("x", -5, 5) ** 2, n_trials=100)
            plot_q_table(study).show()

    Args:
        study: A study whose trials were sampled (at least partly) by an RLSampler.
        sampler: The sampler whose settings (initial table, learning rate, discount) rebuild
            the agent; defaults to the study's sampler if it is an
            :class:`~optuna_rl.RLSampler`, else ``RLSampler()``.

    Returns:
        A figure with one heatmap trace.

    Raises:
        TypeError: If ``study`` is not a study or ``sampler`` not an RLSampler.
        ImportError: If plotly is not installed.
    """
    go = _import_plotly()
    agent = rebuilder(study, sampler).agent_for(study)
    text = [
        [f"{q:.2f}" + (f" · {n}" if n else "") for q, n in zip(q_row, n_row, strict=True)]
        for q_row, n_row in zip(agent.q, agent.visits, strict=True)
    ]
    figure = go.Figure(
        go.Heatmap(
            z=agent.q,
            x=[action.name for action in ACTIONS],
            y=[describe_state(s) for s in range(N_STATES)],
            text=text,
            customdata=agent.visits,
            colorscale="RdBu",
            zmid=0.0,
            texttemplate="%{text}",
            textfont={"size": 10},
            hovertemplate="%{y}<br>move %{x}<br>Q %{z:.3f}<br>taken %{customdata} times here"
            "<extra></extra>",
            colorbar={"title": {"text": "Q"}},
        )
    )
    figure.update_layout(
        title=f"Q-table of the RLSampler agent after {agent.n_updates} of its moves "
        "(cell: Q · times taken)",
        xaxis={"title": {"text": "Move"}},
        yaxis={"title": {"text": "State"}, "autorange": "reversed"},
    )
    return figure


def plot_action_use(study: Study) -> go.Figure:
    """Plot how often each move has been taken, cumulatively, over the trials.

    Each line counts the trials whose parameters came from one move (or from the start-up
    design), read from the decisions RLSampler recorded; trials it did not sample are left out.

    Example:

        .. code-block:: python

            import optuna
            from optuna_rl import RLSampler
            from optuna_rl.visualization import plot_action_use

            study = optuna.create_study(sampler=RLSampler(seed=0))
            study.optimize(lambda t: t.suggest_float("x", -5, 5) ** 2, n_trials=100)
            plot_action_use(study).show()

    Args:
        study: A study whose trials were sampled (at least partly) by an RLSampler.

    Returns:
        A figure with one line per move taken.

    Raises:
        TypeError: If ``study`` is not a study.
        ImportError: If plotly is not installed.
    """
    go = _import_plotly()
    counts: Counter[str] = Counter()
    series: dict[str, tuple[list[int], list[int], list[str]]] = {}
    for trial, decision in _decisions(study):
        name = _move_name(decision)
        counts[name] += 1
        numbers, totals, hover = series.setdefault(name, ([], [], []))
        numbers.append(trial.number)
        totals.append(counts[name])
        hover.append("explored" if decision.explored else "greedy")
    order = [STARTUP] + [action.name for action in ACTIONS]
    figure = go.Figure(
        [
            go.Scatter(
                x=series[name][0],
                y=series[name][1],
                customdata=series[name][2],
                mode="lines+markers",
                line_shape="hv",
                name=name,
                hovertemplate=f"trial %{{x}}: {name} (%{{customdata}})<br>taken %{{y}} times"
                "<extra></extra>",
            )
            for name in order
            if name in series
        ]
    )
    figure.update_layout(
        title="Moves taken by the RLSampler agent",
        xaxis={"title": {"text": "Trial"}},
        yaxis={"title": {"text": "Times taken so far"}},
    )
    return figure


def plot_step_size(study: Study) -> go.Figure:
    """Plot the step size (in the normalised [0, 1] space) of each trial's move.

    The step size is the standard deviation of the Gaussian moves after the agent's action
    (``grow`` doubles it, ``shrink`` halves it); it shows whether the search is narrowing.
    Greedy, exploratory and start-up moves are separate traces.

    Example:

        .. code-block:: python

            import optuna
            from optuna_rl import RLSampler
            from optuna_rl.visualization import plot_step_size

            study = optuna.create_study(sampler=RLSampler(seed=0))
            study.optimize(lambda t: t.suggest_float("x", -5, 5) ** 2, n_trials=100)
            plot_step_size(study).show()

    Args:
        study: A study whose trials were sampled (at least partly) by an RLSampler.

    Returns:
        A figure with a logarithmic step-size axis.

    Raises:
        TypeError: If ``study`` is not a study.
        ImportError: If plotly is not installed.
    """
    go = _import_plotly()
    groups: dict[str, tuple[list[int], list[float], list[str]]] = {
        STARTUP: ([], [], []),
        "greedy": ([], [], []),
        "explored": ([], [], []),
    }
    for trial, decision in _decisions(study):
        if not decision.by_agent:
            group = STARTUP
        else:
            group = "explored" if decision.explored else "greedy"
        numbers, steps, moves = groups[group]
        numbers.append(trial.number)
        steps.append(decision.step_size)
        moves.append(_move_name(decision))
    figure = go.Figure(
        [
            go.Scatter(
                x=numbers,
                y=steps,
                customdata=moves,
                mode="markers",
                name=group,
                hovertemplate="trial %{x}: %{customdata}<br>step size %{y:.4g}<extra></extra>",
            )
            for group, (numbers, steps, moves) in groups.items()
            if numbers
        ]
    )
    # plotly's default log ticks label the minor ticks with bare digits ("0.1, 9, 8, 7, ..."):
    # label powers of ten only, written out, and keep the minor ticks as unlabelled grid lines.
    yaxis: dict[str, Any] = {
        "title": {"text": "Step size (normalised space)"},
        "type": "log",
        "dtick": 1,
        "tickformat": "~g",
        "minor": {"dtick": "D1", "showgrid": True},
    }
    shown = [step for _, steps, _ in groups.values() for step in steps]
    if shown:
        import math

        # Whole decades, so that at least two ticks are labelled however narrow the spread;
        # the margin keeps markers that sit on a power of ten inside the plot.
        low = math.floor(math.log10(min(shown)))
        high = max(low + 1, math.ceil(math.log10(max(shown))))
        yaxis["range"] = [low - 0.1, high + 0.1]
    figure.update_layout(
        title="Step size of the RLSampler moves",
        xaxis={"title": {"text": "Trial"}},
        yaxis=yaxis,
    )
    return figure


def plot_pruning_decisions(study: Study) -> go.Figure:
    """Plot the step at which each trial stopped: completed trials ran to their last report,
    pruned trials were stopped there. Hovering a pruned trial shows the reason
    :class:`~optuna_rl.RLPruner` gave (the ``rl_pruner`` user attr).

    Example:

        .. code-block:: python

            import optuna
            from optuna_rl import RLPruner
            from optuna_rl.visualization import plot_pruning_decisions


            def objective(trial):
                x = trial.suggest_float("x", -5, 5)
                for step in range(20):
                    trial.report(x**2 + 1 / (step + 1), step)
                    if trial.should_prune():
                        raise optuna.TrialPruned()
                return x**2


            study = optuna.create_study(pruner=RLPruner())
            study.optimize(objective, n_trials=50)
            plot_pruning_decisions(study).show()

    Args:
        study: A study whose trials reported intermediate values.

    Returns:
        A figure with a trace for completed trials and one for pruned trials.

    Raises:
        TypeError: If ``study`` is not a study.
        ImportError: If plotly is not installed.
    """
    go = _import_plotly()
    groups: dict[TrialState, tuple[list[int], list[int], list[str]]] = {
        TrialState.COMPLETE: ([], [], []),
        TrialState.PRUNED: ([], [], []),
    }
    for trial in check_study(study).get_trials(deepcopy=False, states=tuple(groups)):
        if trial.last_step is None:
            continue
        numbers, steps, texts = groups[trial.state]
        numbers.append(trial.number)
        steps.append(trial.last_step)
        value = trial.intermediate_values[trial.last_step]
        reason = trial.user_attrs.get(_attrs.USER_PRUNER, "no RLPruner decision")
        texts.append(f"value {value:.6g}<br>{reason}")
    styles: dict[TrialState, dict[str, Any]] = {
        TrialState.COMPLETE: {"name": "completed", "marker": {"color": "#7f7f7f"}},
        TrialState.PRUNED: {
            "name": "pruned",
            "marker": {"color": "#d62728", "symbol": "x", "size": 9},
        },
    }
    figure = go.Figure(
        [
            go.Scatter(
                x=numbers,
                y=steps,
                customdata=texts,
                mode="markers",
                hovertemplate="trial %{x}, step %{y}<br>%{customdata}<extra></extra>",
                **styles[state],
            )
            for state, (numbers, steps, texts) in groups.items()
        ]
    )
    figure.update_layout(
        title="Pruning decisions",
        xaxis={"title": {"text": "Trial"}},
        yaxis={"title": {"text": "Last step reported"}},
    )
    return figure


def _import_plotly() -> ModuleType:
    try:
        import plotly.graph_objects as go
    except ImportError as exc:
        raise ImportError(
            "optuna_rl.visualization needs plotly. Install the `dashboard` extra with "
            '`pip install "optuna-rl[dashboard]"` (or `pip install plotly`).'
        ) from exc
    return go


def _decisions(study: Study) -> list[tuple[FrozenTrial, Decision]]:
    """The trials with a decision RLSampler recorded, in number order; malformed ones are
    skipped (the sampler warns about them when it replays the study)."""
    return [
        (trial, decision)
        for trial in check_study(study).get_trials(deepcopy=False)
        if (decision := recorded_decision(trial)) is not None
    ]


def _move_name(decision: Decision) -> str:
    return STARTUP if not decision.by_agent else ACTIONS[decision.action].name
