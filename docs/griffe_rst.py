r"""A griffe extension (mkdocs.yml, mkdocstrings' ``extensions:``) that reads nalm's docstrings as
the API reference shows them: their reStructuredText roles and literal blocks become Markdown.

>>> markdown("See :func:`~nalm.api.run` and :math:`x^2`.")
'See `run` and `x^2`.'
>>> markdown("A sum.\n\n>>> 1 + 1\n2\n\nDone.").split("\n")
['A sum.', '', '```pycon', '>>> 1 + 1', '2', '```', '', 'Done.']
"""
from __future__ import annotations

import re

try:
    from griffe import Extension
except ImportError:  # pytest collects docs/ for doctests, where the docs extra may not be installed
    Extension = object

ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj|math):`(~?)([^`]+)`")
SECTION = re.compile(r"^\s*Examples?:\s*$")


def role(match: re.Match) -> str:
    """``:func:`~a.b.c``` as `c`, ``:class:`a.B``` as `a.B`: Sphinx's rule for the tilde."""
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def markdown(text: str) -> str:
    """``text`` with roles as code, ``Examples::`` as Google style's ``Examples:``, and each doctest
    outside an Examples section fenced, so that its output is not read as Markdown."""
    lines = ROLE.sub(role, text).replace("Examples::", "Examples:").split("\n")
    out, in_section, block = [], False, None
    for line in lines + [""]:
        if block is not None:
            if line.strip():
                out.append(line)
                continue
            out.append(block + "```")
            block = None
        if SECTION.match(line):
            in_section = True
        elif line.strip().startswith(">>>") and not in_section and (not out or not out[-1].strip()):
            block = line[:len(line) - len(line.lstrip())]
            out.append(block + "```pycon")
        out.append(line)
    return "\n".join(out[:-1])


class ReST(Extension):
    """Rewrites every docstring, before it is parsed, with :func:`markdown`."""

    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
