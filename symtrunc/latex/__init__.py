"""LaTeX: the printer (sympy-style ``_print_<Class>`` dispatch), fragments and per-network reports."""

from symtrunc.latex.printer import (
    Fragment,
    LatexOptions,
    SymtruncLatexPrinter,
    claims_table,
    latex_matrix,
    latex_number,
    latex_vector,
    matrix_fragment,
    matrix_pair,
    network_expression,
    register_latex,
    relu,
    tex_escape,
    to_latex,
    to_markdown,
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
