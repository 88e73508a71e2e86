"""The sampler's agent, pure numpy and scipy: the normalised space, the state, the rewards, the
moves, the model-guided move's Gaussian process, the start-up design and the policy that turns
them into a proposal. Nothing here imports Optuna; :mod:`optuna_rl.sampler` is the glue."""
