"""The pruner's agent, pure numpy: learning curves and where a trial stands among the others
(:mod:`~optuna_rl.pruning.curves`), the state (:mod:`~optuna_rl.pruning.state`), learning from
finished curves (:mod:`~optuna_rl.pruning.learner`) and the decision
(:mod:`~optuna_rl.pruning.policy`). Nothing here imports Optuna; :mod:`optuna_rl.pruner` is the
glue."""
