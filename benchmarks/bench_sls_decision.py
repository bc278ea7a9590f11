"""Time ``find_sls`` (the exact SLS decision of issue 15) on real data: UCI Wine (embedded),
breast cancer and digits (scikit-learn, no download).

Run from the repository root: ``python -m benchmarks.bench_sls_decision``.
"""

from __future__ import annotations

import time

from sklearn.datasets import load_breast_cancer, load_digits

from symtrunc.data.labeled import LabeledData
from symtrunc.datasets import load_wine
from symtrunc.geometry.separability import find_sls


def main() -> None:
    """Print one Markdown row per data set: size, order found, seconds."""
    cancer, digits = load_breast_cancer(), load_digits()
    sets = {
        "wine": load_wine(),
        "breast cancer": LabeledData.from_arrays(cancer.data, cancer.target),
        "digits": LabeledData.from_arrays(digits.data.astype(int), digits.target),
    }
    print("| data | N | M | Q | find_sls (s) | order |")
    print("|---|---|---|---|---|---|")
    for name, data in sets.items():
        t0 = time.perf_counter()
        cert = find_sls(data)
        dt = time.perf_counter() - t0
        assert cert.check(data)
        print(f"| {name} | {data.N} | {data.M} | {data.Q} | {dt:.2f} | {','.join(map(str, cert.order))} |")


if __name__ == "__main__":
    main()
