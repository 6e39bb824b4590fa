"""The population training engine and its optimizers."""
from .config import TrainConfig
from .data import Member, PopulationData
from .engine import MemberResult, train_population
from .optim import PopulationOptimizer

__all__ = ["Member", "MemberResult", "PopulationData", "PopulationOptimizer", "TrainConfig", "train_population"]
