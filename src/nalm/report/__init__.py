"""Tables and figures from the results store. Each name is imported from its module when first
used (:func:`nalm.lazy.lazy_exports`)."""
from ..lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".markdown": ("render",),
    ".summary": ("Cell", "baseline_name", "one_generator", "one_table", "summarize"),
    ".write": ("write_report",),
})
