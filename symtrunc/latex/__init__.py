"""LaTeX: numbers and matrices (:mod:`~symtrunc.latex.printer`), the document model
(:mod:`~symtrunc.latex.document`), the printers of symtrunc objects (:mod:`~symtrunc.latex.objects`)
and per-network derivation reports (:mod:`~symtrunc.latex.report`)."""

from symtrunc.latex.document import Fragment, tex_escape
from symtrunc.latex.objects import claims_table, network_expression, register_latex, to_latex, to_markdown
from symtrunc.latex.printer import (
    LatexOptions,
    SymtruncLatexPrinter,
    latex_matrix,
    latex_number,
    latex_vector,
    matrix_fragment,
    matrix_pair,
    relu,
)
from symtrunc.latex.report import Report, build_report, write_report

__all__ = [
    "Fragment",
    "LatexOptions",
    "Report",
    "SymtruncLatexPrinter",
    "build_report",
    "claims_table",
    "latex_matrix",
    "latex_number",
    "latex_vector",
    "matrix_fragment",
    "matrix_pair",
    "network_expression",
    "register_latex",
    "relu",
    "tex_escape",
    "to_latex",
    "to_markdown",
    "write_report",
]
