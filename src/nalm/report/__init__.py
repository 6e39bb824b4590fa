"""Tables and figures from the results store."""
from .markdown import render
from .summary import Cell, baseline_name, one_generator, one_table, summarize
from .write import write_report

__all__ = ["Cell", "baseline_name", "one_generator", "one_table", "render", "summarize", "write_report"]
