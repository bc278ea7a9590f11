"""Exact tester of the two-hidden-layer claim (:mod:`symtrunc.constructions.two_layer`).

>>> from symtrunc.data.labeled import LabeledData
>>> d = LabeledData.from_arrays([[12, 0, 0], [11, 1, 0], [0, 12, 0], [1, 11, 1], [0, 0, 12], [0, 1, 11]],
...                             list("aabbcc"))
>>> [c.verdict for c in two_layer_claims(d)]
['holds', 'holds']
"""

from __future__ import annotations

from typing import Any

from symtrunc.claims.record import Claim
from symtrunc.constructions import two_layer as _construction  # its helpers, patched in tests
from symtrunc.data.labeled import load_data
from symtrunc.errors import VerificationError
from symtrunc.verification.exact import verify

__all__ = ["two_layer_claims"]


def two_layer_claims(data: Any, *, s: Any = 2, theta: Any = 1, beta: Any = 1, c: Any = None) -> list[Claim]:
    """Test exactly that two hidden layers reach zero loss (``L ≥ Q`` of CE23a Thm 2.3 is not necessary).

    Claims: (1) the two-layer network attains ``C_N = 0`` (exact value from the checker);
    (2) ``2 < Q``, so the data show that ``L ≥ Q`` is not necessary (``"not applicable"`` for ``Q = 2``; the
    witness gives the parameter counts ``K``, ``QN`` and ``(Q + 1) Q (Q + 1)`` of Theorem 2.3
    with ``L = Q``, ``M = Q``).

    Parameters
    ----------
    data : LabeledData or path
    s, theta, beta, c
        As in :func:`construct_two_layer`.

    Raises
    ------
    HypothesisError
        As :func:`construct_two_layer`.
    """

    data = load_data(data)
    Q, N = data.Q, data.N
    conf = ""  # no configuration s here
    net = _construction._network(data, s, theta, beta, c)
    claim = "two hidden layers attain min C_N = 0 on clustered data (ref. §4: L ≥ Q is not necessary)"
    try:
        cert = verify(net, data)
        out = [
            Claim(
                claim,
                conf,
                "0",
                cert.costs["class_weighted_sqrt"],
                "holds",
                {
                    "summary": f"L = 2 hidden layers, widths {list(net.widths)}",
                    "widths": list(net.widths),
                    "c": str(net.construction.c),
                    "beta": str(net.construction.beta),
                },
            )
        ]
    except VerificationError as err:
        out = [Claim(claim, conf, "0", None, "fails", {"summary": str(err), "counterexample": str(err.counterexample)})]
    K = net.parameter_count().total
    out.append(
        Claim(
            "the zero-loss network has L = 2 < Q hidden layers (Q > 2 shows L ≥ Q is not necessary)",
            conf,
            None,
            f"L=2, Q={Q}",
            "holds" if Q > 2 else "not applicable",
            {
                "summary": f"K = {K} parameters, QN = {Q * N}" if Q > 2 else "Q = 2: L = 2 = Q shows nothing",
                "K": K,
                "QN": Q * N,
                "K_Theorem_2.3_L=Q_M=Q": (Q + 1) * Q * (Q + 1),
            },
        )
    )
    return out
