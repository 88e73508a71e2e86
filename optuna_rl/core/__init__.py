"""The part both agents share, pure numpy: tabular Q-learning, ranking with ties, and the fold
that replays finished trials in number order. Nothing here imports Optuna."""
