"""Training: one loop (:func:`train`) for every population, the populations of arithmetic
tasks, and the optimizers."""
from .arithmetic import ArithmeticPopulation, train_population
from .config import TrainConfig
from .data import PopulationData
from .loop import CHECKPOINT_EVERY, Checkpointing, TrainingInterrupted, train
from .optim import PopulationOptimizer
from .population import Member, MemberResult, Population

__all__ = ["ArithmeticPopulation", "CHECKPOINT_EVERY", "Checkpointing", "Member", "MemberResult", "Population",
           "PopulationData", "PopulationOptimizer", "TrainConfig", "TrainingInterrupted", "train", "train_population"]
