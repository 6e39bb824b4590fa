"""Training defaults the command line shows in its help, without importing PyTorch."""

CHECKPOINT_EVERY = 300.0
"""Seconds between a population's checkpoints by default: a few minutes of work at most is lost."""
