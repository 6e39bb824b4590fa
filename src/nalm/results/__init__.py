"""Persistent storage of experiment results."""

from nalm.results.store import (
    SCHEMA_VERSION,
    Checkpoint,
    ResultsStore,
    RunKey,
    RunRecord,
    StoreError,
    StoreWriteError,
    config_hash,
)

__all__ = ["SCHEMA_VERSION", "Checkpoint", "ResultsStore", "RunKey", "RunRecord", "StoreError", "StoreWriteError",
           "config_hash"]
