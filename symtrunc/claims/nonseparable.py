"""Exact tester of the claims about non-separable data (:mod:`symtrunc.constructions.nonseparable`).

>>> from symtrunc.data.labeled import LabeledData
>>> inner = [[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]]
>>> outer = [[5, 0], [0, 5], [-5, 0], [0, -5], [4, 4], [-4, 4], [-4, -4], [4, -4]]
>>> d = LabeledData.from_arrays(inner + outer, ["in"] * 5 + ["out"] * 8, check=False)
>>> [c.verdict for c in nonseparable_claims(d)]
['holds', 'holds', 'holds']
"""

from __future__ import annotations

from typing import Any

from symtrunc.claims.record import Claim
from symtrunc.constructions import nonseparable as _construction  # its helpers, patched in tests
from symtrunc.data.labeled import load_data
from symtrunc.errors import DataError, HypothesisError, VerificationError
from symtrunc.exact.matrix import str_rows
from symtrunc.verification.exact import verify

__all__ = ["nonseparable_claims"]


def nonseparable_claims(
    data: Any,
    *,
    inner: Any = None,
    simplex: Any = None,
    height: Any = 1,
    tries: int = 64,
    finish: str = "cone",
) -> list[Claim]:
    """Test Cor. 3.2 and Theorem 3.3 of arXiv 2504.18710 exactly on binary data.

    Claims: (1) the truncation of the lifted data collapses the inner class to the apex ``p``;
    (2) the truncated lifted data are linearly separable, by ``z_{d_0+1} = η (1 + ã/2)``
    (witness: the hyperplane and the smallest margin); (3) the network of Theorem 3.3 attains
    ``C_N = 0`` (witness on failure: the exact counterexample).

    Parameters
    ----------
    data : LabeledData or path
    inner, simplex, height, tries, finish
        As in :func:`construct_nonseparable`.

    Raises
    ------
    HypothesisError
        As :func:`construct_nonseparable` (not binary, no enclosing simplex, lifted data not SLS).
    """

    data = load_data(data)
    if finish not in ("cone", "sls"):
        raise DataError(f"unknown finish {finish!r}; use 'cone' or 'sls'")
    cone, Z, sep = _construction._lift_and_truncate(data, inner, simplex, height, tries)
    S = cone.simplex
    d = data.M
    conf = ""  # no configuration s here; the setting goes into each witness
    setting = f"d0={d}, inner class {data.classes[S.inner]!r}"
    inner_pts = [i for i, j in enumerate(data.y) if j == S.inner]
    moved = [i for i in inner_pts if [Z[k, i] for k in range(d + 1)] != cone.apex.entries()]
    out = [
        Claim(
            "Cor. 3.2: τ∘ι collapses the class inside the simplex to the apex p (Lemma 2.1, backward cone)",
            conf,
            None,
            str(len(inner_pts) - len(moved)) + f"/{len(inner_pts)} points at p",
            "fails" if moved else "holds",
            {
                "summary": f"{setting}, apex p = ({', '.join(map(str, cone.apex.entries()))})",
                "apex": [str(v) for v in cone.apex.entries()],
                "simplex": str_rows(S.vertices),
                **({"first_moved_point": moved[0]} if moved else {}),
            },
        )
    ]
    last = Z.nrows() - 1
    margins = [(Z[last, i] - sep) * (1 if j != S.inner else -1) for i, j in enumerate(data.y)]
    low = min(range(data.N), key=margins.__getitem__)
    out.append(
        Claim(
            "Cor. 3.2 / Prop. 3.1: τ∘ι(X) is linearly separable",
            conf,
            None,
            f"smallest margin {margins[low]}",
            "holds" if margins[low] > 0 else "fails",
            {
                "summary": f"{setting}: hyperplane z_(d0+1) = {sep}",
                "normal": ["0"] * d + ["1"],
                "offset": str(sep),
                "tightest_point": low,
            },
        )
    )
    if finish == "sls":
        claim = "Thm 3.3 with the CE24 Thm 5.2 finish: the lifted network attains C_N = 0"
    else:
        claim = "Thm 3.3: the network R^d0 → R^(d0+1) → R^(d0+1) → R^2 attains C_N = 0"
    try:
        net = (
            _construction._network_sls(data, cone, Z) if finish == "sls" else _construction._network(data, cone, Z, sep)
        )
        cert = verify(net, data)
        out.append(
            Claim(
                claim,
                conf,
                "0",
                cert.costs["class_weighted_sqrt"],
                "holds",
                {
                    "summary": f"{setting}: widths {list(net.widths)}",
                    "widths": list(net.widths),
                    "parameters": net.parameter_count().total,
                },
            )
        )
    except HypothesisError as err:  # a later step of the construction is not possible
        out.append(Claim(claim, conf, "0", None, "fails", {"summary": str(err)}))
    except VerificationError as err:
        out.append(
            Claim(claim, conf, "0", None, "fails", {"summary": str(err), "counterexample": str(err.counterexample)})
        )
    return out
