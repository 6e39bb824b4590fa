"""Persistent storage of experiment results."""

from nalm.results.store import (
    SCHEMA_VERSION,
    ResultsStore,
    RunKey,
    RunRecord,
    StoreError,
    config_hash,
)

__all__ = ["SCHEMA_VERSION", "ResultsStore", "RunKey", "RunRecord", "StoreError", "config_hash"]
