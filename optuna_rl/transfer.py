"""Start a new study's agent from what :class:`~optuna_rl.RLSampler` learned in finished ones.

By default every study's agent starts from the Q-table shipped with the package, learned offline
on synthetic functions. When earlier studies tuned a related problem (the same model on another
data set, the same training code after a small change), the table their agents ended with is
often a better start: :func:`learned_q_table` rebuilds it from their trials, and
``RLSampler(initial_q_table=...)`` starts from it, as Optuna's ``CmaEsSampler(source_trials=...)``
warm-starts CMA-ES.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from optuna.study import Study

from optuna_rl.sampler import RLSampler
from optuna_rl.sampler import rebuilder


def learned_q_table(
    studies: Study | Sequence[Study], *, sampler: RLSampler | None = None
) -> np.ndarray:
    """The Q-table that RLSampler's agent learned in ``studies``, to start another study from.

    The agent of each study is rebuilt from its finished trials (as
    :meth:`RLSampler.agent_for <optuna_rl.RLSampler.agent_for>` does). Each entry of the
    returned table is the visit-weighted mean of the studies' values for that (state, move);
    entries no study visited keep the sampler's initial value. For one study it is that study's
    table. The result depends only on the source studies' trials, so every worker of the new
    study computes the same table, and it can be saved (``numpy.save``) to start studies later.

    Example:

        .. testcode::

            import optuna
            from optuna_rl import RLSampler
            from optuna_rl.transfer import learned_q_table


            def objective(trial, shift):
                x = trial.suggest_float("x", -10, 10)
                y = trial.suggest_int("y", -5, 5)
                return (x - shift) ** 2 + y**2


            old = optuna.create_study(sampler=RLSampler(seed=0))
            old.optimize(lambda trial: objective(trial, 1.0), n_trials=40)

            # A related problem: start from the policy learned on the old one.
            sampler = RLSampler(seed=1, initial_q_table=learned_q_table(old))
            new = optuna.create_study(sampler=sampler)
            new.optimize(lambda trial: objective(trial, 2.0), n_trials=40)

    Args:
        studies: A finished study, or several, sampled (at least in part) by RLSampler. Studies
            from another storage load with ``optuna.load_study``.
        sampler: The :class:`~optuna_rl.RLSampler` whose learning settings (learning rate,
            discount, initial table) rebuild the agents; defaults to each study's sampler if it
            is an RLSampler, else ``RLSampler()``. Pass the settings the source studies ran
            with.

    Returns:
        A table of the shape ``RLSampler(initial_q_table=...)`` takes.

    Raises:
        ValueError: If ``studies`` is empty or the studies' agents have different shapes.
        TypeError: If ``studies`` is not a study or a sequence of them, or ``sampler`` not an
            RLSampler.
    """
    if isinstance(studies, Study):
        sources = [studies]
    elif isinstance(studies, Sequence) and not isinstance(studies, str):
        sources = list(studies)
    else:
        raise TypeError(
            "`studies` must be an optuna.Study or a sequence of them, got "
            f"{studies!r} of type {type(studies).__name__}."
        )
    if not sources:
        raise ValueError("`studies` must hold at least one study, got none.")
    agents = [rebuilder(study, sampler).agent_for(study) for study in sources]
    shapes = {agent.q.shape for agent in agents}
    if len(shapes) != 1:
        raise ValueError(f"The studies' agents have different Q-table shapes: {sorted(shapes)}.")
    if len(agents) == 1:
        return agents[0].q.copy()
    visits = np.sum([agent.visits for agent in agents], axis=0)
    weighted = np.sum([agent.visits * agent.q for agent in agents], axis=0)
    initial = agents[0].initial_q
    return np.where(visits > 0, weighted / np.maximum(visits, 1), initial)
