"""Training: algorithms, losses, optimizers, the session trainer and the `experiment` CLI."""
