"""The population training engine and its optimizers."""
from .config import TrainConfig
from .data import Member, PopulationData
from .engine import CHECKPOINT_EVERY, Checkpointing, MemberResult, TrainingInterrupted, train_population
from .optim import PopulationOptimizer

__all__ = ["CHECKPOINT_EVERY", "Checkpointing", "Member", "MemberResult", "PopulationData", "PopulationOptimizer",
           "TrainConfig", "TrainingInterrupted", "train_population"]
