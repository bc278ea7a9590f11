"""Small real data sets bundled with symtrunc.

The data are stored as CSV files inside the package and read exactly: each
decimal cell becomes the rational number it spells (``"14.23"`` is ``1423/100``).
Provenance and licenses are in ``README.md`` next to the files.

Examples
--------
>>> from symtrunc.datasets import load_wine
>>> wine = load_wine()
>>> wine.summary()
'178 points in R^13, 3 classes (cultivar_1: 59, cultivar_2: 71, cultivar_3: 48)'
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

from symtrunc.data.labeled import LabeledData

__all__ = ["load_wine", "wine_path"]

_WINE = "wine.csv"


def wine_path() -> Path:
    """Filesystem path of the bundled UCI Wine CSV file.

    Returns
    -------
    pathlib.Path
        Path to ``wine.csv``: a header row with 13 feature names and ``cultivar``,
        then 178 rows of decimal features and a label ``cultivar_1``,
        ``cultivar_2`` or ``cultivar_3``.

    Examples
    --------
    >>> p = wine_path()
    >>> p.name, p.is_file()
    ('wine.csv', True)
    >>> p.read_text().splitlines()[1]
    '14.23,1.71,2.43,15.6,127,2.8,3.06,0.28,2.29,5.64,1.04,3.92,1065,cultivar_1'
    """
    return Path(str(files(__name__) / _WINE))


def load_wine() -> LabeledData:
    """Load the UCI Wine data (178 wines, 13 features, 3 cultivars) exactly.

    The data come from the UCI Machine Learning Repository (Forina, M. et al.,
    PARVUS; Lichman, M. (2013)), licensed CC BY 4.0; see ``README.md`` in this
    package for provenance.

    Returns
    -------
    LabeledData
        Points with exact rational coordinates, classes
        ``('cultivar_1', 'cultivar_2', 'cultivar_3')`` and the identity label
        matrix. The feature names come from the CSV header.

    Examples
    --------
    >>> wine = load_wine()
    >>> wine.summary()
    '178 points in R^13, 3 classes (cultivar_1: 59, cultivar_2: 71, cultivar_3: 48)'
    >>> wine.feature_names[:3], wine.feature_names[-1]
    (('alcohol', 'malic_acid', 'ash'), 'proline')
    >>> wine.X[0, 0], wine.X[0, 12]
    (1423/100, 1065)
    >>> wine.mean(0)[0, 0]
    40547/2950
    """
    with as_file(files(__name__) / _WINE) as path:
        return LabeledData.from_csv(path)
