"""Persistent storage of experiment results."""

from nalm.results.store import (
    SCHEMA_VERSION,
    Checkpoint,
    DamagedRunWarning,
    ResultsStore,
    RunKey,
    RunRecord,
    StoreDamaged,
    StoreError,
    StoreWriteError,
    config_hash,
)

__all__ = ["SCHEMA_VERSION", "Checkpoint", "DamagedRunWarning", "ResultsStore", "RunKey", "RunRecord", "StoreDamaged",
           "StoreError", "StoreWriteError", "config_hash"]
