"""Tables (and later figures) from the results store."""
from .markdown import render
from .summary import Cell, summarize

__all__ = ["Cell", "render", "summarize"]
