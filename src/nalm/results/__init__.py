"""Persistent storage of experiment results."""

from nalm.results.records import (
    Checkpoint,
    DamagedRunWarning,
    RunKey,
    RunRecord,
    StoreDamaged,
    StoreError,
    StoreWriteError,
    config_hash,
)
from nalm.results.store import SCHEMA_VERSION, ResultsStore

__all__ = ["SCHEMA_VERSION", "Checkpoint", "DamagedRunWarning", "ResultsStore", "RunKey", "RunRecord", "StoreDamaged",
           "StoreError", "StoreWriteError", "config_hash"]
