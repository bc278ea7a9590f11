"""A scikit-learn style front end: :class:`TruncationClassifier`.

``fit`` builds the explicit zero-loss network of Chen & Muñoz Ewald (arXiv 2405.07098) for the
training data (Theorem 5.2 for ``method="sls"``, Proposition 4.1 for ``method="clustered"``) and
proves exactly that it interpolates them; ``predict`` evaluates the network exactly and returns
the label of the largest output. The class follows scikit-learn's conventions (parameters
stored unchanged by ``__init__``, ``get_params``/``set_params``, learned attributes ending in
``_``, ``fit`` returns ``self``, ``feature_names_in_`` from pandas ``DataFrame`` columns) without
importing scikit-learn, so it works in pipelines, ``clone`` and ``GridSearchCV``. scikit-learn is
optional (the ``sklearn`` extra); when it is installed, :class:`NotFittedError` and
:class:`DataConversionWarning` are also scikit-learn's classes of the same names, so
``except sklearn.exceptions.NotFittedError`` catches the classifier's error.

Training data must satisfy the theorem's hypotheses; otherwise ``fit`` raises
:class:`~symtrunc.errors.HypothesisError` (a ``ValueError``) carrying the exact certificate. It
is an *interpolating* construction, not a learner that trades training error for smoothness.

Examples
--------
>>> from symtrunc.classifier import TruncationClassifier
>>> X = [[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]]
>>> y = ["a"] * 4 + ["b"] * 4
>>> clf = TruncationClassifier().fit(X, y)
>>> clf.order_, clf.certificate_.zero_loss, clf.score(X, y)
(['a', 'b'], True, 1.0)
>>> clf.predict([[5, 0], [0, 5]]).tolist()
['a', 'b']
>>> clf.network_.widths
(2, 2, 2, 2)
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from symtrunc.constructions.clustered import construct_clustered
from symtrunc.constructions.sls import construct_sls
from symtrunc.data.labeled import LabeledData
from symtrunc.errors import DataError, SymtruncError
from symtrunc.exact.matrix import to_float
from symtrunc.verification import verify

__all__ = ["TruncationClassifier", "NotFittedError", "DataConversionWarning"]


class NotFittedError(SymtruncError, ValueError, AttributeError):
    """``predict``, ``decision_function`` or ``score`` was called before ``fit``.

    A ``ValueError`` and an ``AttributeError``, like scikit-learn's exception of the same name;
    when scikit-learn is installed, the error raised is also an instance of
    ``sklearn.exceptions.NotFittedError``.
    """

    def __reduce__(self):
        return _not_fitted, self.args


class DataConversionWarning(UserWarning):
    """The input had to be converted (a column-vector ``y``); scikit-learn's warning of the same
    name when scikit-learn is installed."""


@functools.cache
def _also_sklearn(cls: type) -> type:
    """``cls``, also a subclass of scikit-learn's exception or warning of the same name when
    scikit-learn is installed (imported only here, when the error or warning happens: importing
    scikit-learn takes seconds)."""
    try:
        from sklearn import exceptions  # lazy: optional dependency, slow to import
    except ImportError:
        return cls
    return type(
        cls.__name__, (cls, getattr(exceptions, cls.__name__)), {"__module__": __name__, "__doc__": cls.__doc__}
    )


def _not_fitted(*args: Any) -> NotFittedError:
    """A :class:`NotFittedError` (also scikit-learn's, when installed)."""
    return _also_sklearn(NotFittedError)(*args)


def _feature_names(X: Any) -> np.ndarray | None:
    """The column names of a pandas ``DataFrame`` when they are all strings (as scikit-learn)."""
    names = list(getattr(X, "columns", ()))
    return np.asarray(names, dtype=object) if names and all(isinstance(n, str) for n in names) else None


class TruncationClassifier:
    """Exact zero-loss ReLU network classifier built from truncation maps.

    Parameters
    ----------
    method : {"sls", "clustered"}
        ``"sls"``: Theorem 5.2 (sequentially linearly separable data). ``"clustered"``:
        Proposition 4.1 (small, well separated clusters).
    cone : {"rational", "paper"}
        Cone recipe of the hidden layers (see :func:`symtrunc.construct`).
    order : sequence of labels, optional
        Collapse order (``"sls"`` only; default: found by the exact order search).
    options : dict, optional
        Further keyword options for :func:`symtrunc.construct` (``normals``, ``t``, ``epsilon``,
        ``angles``, ``mu``, ``widths``, ...).

    Attributes
    ----------
    network_ : ReLUNetwork
        The exact network; output ``k`` belongs to ``classes_[k]``.
    certificate_ : Certificate
        The exact zero-loss certificate on the training data.
    order_ : list
        Labels in the order in which the hidden layers collapse them.
    classes_ : numpy.ndarray
        The class labels (sorted), in output order.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : numpy.ndarray of str
        The column names of a pandas ``DataFrame`` ``X`` in ``fit`` (only when they are all strings).
        ``predict`` then checks that its ``DataFrame`` has the same columns in the same order.
    """

    def __init__(
        self, method: str = "sls", cone: str = "rational", order: Any = None, options: Mapping[str, Any] | None = None
    ) -> None:
        self.method = method
        self.cone = cone
        self.order = order
        self.options = options

    # ----------------------------------------------------------- parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (``deep`` is accepted for compatibility).

        >>> TruncationClassifier(method="clustered").get_params()["method"]
        'clustered'
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> TruncationClassifier:
        """Set constructor parameters; returns ``self``.

        >>> TruncationClassifier().set_params(cone="paper").cone
        'paper'
        """
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise DataError(f"invalid parameter {name!r} for TruncationClassifier; valid: {', '.join(valid)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values() if p.name != "self"
        }
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if v is not defaults[k]]
        return f"TruncationClassifier({', '.join(changed)})"

    def __sklearn_tags__(self):
        """Tags for scikit-learn (only called by scikit-learn, which is then installed)."""
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        tags = Tags(
            estimator_type="classifier",
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(poor_score=True),
        )
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------ learning
    def fit(self, X: Any, y: Any) -> TruncationClassifier:
        """Construct and verify the network for the training data ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Read exactly (floats as the binary fractions they store, decimal strings exactly). A
            pandas ``DataFrame`` with string column names sets :attr:`feature_names_in_`.
        y : array-like of shape (n_samples,)
            A column vector ``(n_samples, 1)`` is raveled with a :class:`DataConversionWarning`.

        Returns
        -------
        TruncationClassifier
            ``self``.

        Raises
        ------
        DataError
            Malformed data (NaN, ragged, fewer than 2 classes, more classes than features, ...).
        HypothesisError
            The data violate the theorem's hypotheses (with the exact certificate).
        """

        recipes = {"sls": construct_sls, "clustered": construct_clustered}
        if self.method not in recipes:
            raise DataError(f"unknown method {self.method!r}; use one of {', '.join(recipes)}")
        options = dict(self.options or {})
        if self.order is not None:
            options["order"] = list(self.order)
        known = set(inspect.signature(recipes[self.method]).parameters) - {"data", "cone"}
        if set(options) - known:
            raise DataError(
                f"unknown option(s) {', '.join(sorted(map(str, set(options) - known)))} for "
                f"method {self.method!r}; its options are {', '.join(sorted(known))}"
            )
        names = _feature_names(X)
        X = self._check_X(X)
        labels = self._check_y(y, X.shape[0])
        n_classes = len(set(labels))
        if n_classes > X.shape[1]:
            raise DataError(
                f"{n_classes} classes but n_features = {X.shape[1]}: the constructions need at "
                "most as many classes as features (linearly independent class means)"
            )
        data = LabeledData.from_arrays(X, labels)
        network = recipes[self.method](data, cone=self.cone, **options)
        self.network_ = network
        self.certificate_ = verify(network, data)
        self.order_ = list(network.construction.order)
        self.classes_ = np.asarray(data.classes)
        self.n_features_in_ = data.M
        if names is None:
            self.__dict__.pop("feature_names_in_", None)  # a refit without names forgets the old ones
        else:
            self.feature_names_in_ = names
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """The network's outputs (exact, rounded to float64 at the end).

        Shape ``(n_samples, n_classes)``; for two classes, as in scikit-learn, the difference
        ``output[1] - output[0]`` of shape ``(n_samples,)`` (positive means ``classes_[1]``).
        """

        out = self._outputs(X)
        if len(self.classes_) == 2:
            return np.array([float(r[1] - r[0]) for r in out.tolist()], dtype=float)
        return to_float(out)

    def predict(self, X: Any) -> np.ndarray:
        """The label of the largest exact output (the first one on ties), shape ``(n_samples,)``."""
        rows = self._outputs(X).tolist()
        best = [max(range(len(r)), key=r.__getitem__) for r in rows]
        return self.classes_[np.asarray(best, dtype=int)] if rows else self.classes_[:0]

    def score(self, X: Any, y: Any) -> float:
        """Mean accuracy of :meth:`predict` on ``(X, y)``."""
        y = np.asarray(y)
        return float(np.mean(self.predict(X) == y))

    # ------------------------------------------------------------- helpers
    def _outputs(self, X: Any):
        if not hasattr(self, "network_"):
            raise _not_fitted("this TruncationClassifier is not fitted yet; call fit(X, y) first")
        self._check_feature_names(X)
        X = self._check_X(X, fitting=False)
        if X.shape[1] != self.n_features_in_:
            raise DataError(
                f"X has {X.shape[1]} features, but TruncationClassifier is expecting "
                f"{self.n_features_in_} features as input"
            )
        return self.network_.forward(X)

    def _check_feature_names(self, X: Any) -> None:
        """Compare the columns of ``X`` with those seen in ``fit`` (scikit-learn's rules and words)."""
        names, fitted = _feature_names(X), getattr(self, "feature_names_in_", None)
        kind = type(self).__name__
        if names is None and fitted is not None:
            warnings.warn(
                f"X does not have valid feature names, but {kind} was fitted with feature names",
                UserWarning,
                stacklevel=4,
            )
        elif names is not None and fitted is None:
            warnings.warn(
                f"X has feature names, but {kind} was fitted without feature names", UserWarning, stacklevel=4
            )
        elif names is not None and fitted is not None and names.tolist() != fitted.tolist():
            unseen = [n for n in names.tolist() if n not in set(fitted.tolist())]
            missing = [n for n in fitted.tolist() if n not in set(names.tolist())]
            parts = ([f"unseen at fit time: {', '.join(unseen)}"] if unseen else []) + (
                [f"seen at fit time, yet now missing: {', '.join(missing)}"] if missing else []
            )
            raise DataError(
                "The feature names should match those that were passed during fit: "
                + ("; ".join(parts) or "they must be in the same order as they were in fit")
            )

    @staticmethod
    def _check_X(X: Any, fitting: bool = True) -> np.ndarray:
        try:
            arr = np.asarray(X)
        except (ValueError, TypeError):
            raise DataError("X must be a 2-dimensional array of numbers (ragged rows?)") from None
        if hasattr(X, "toarray") or arr.dtype == object and arr.ndim == 0:
            raise DataError("sparse or non-array input is not supported; pass a dense 2-D array")
        if arr.ndim != 2:
            raise DataError(
                f"X must be 2-dimensional (n_samples, n_features), got shape {arr.shape}; "
                "reshape a single feature with X.reshape(-1, 1)"
            )
        if arr.dtype.kind == "c":
            raise DataError("Complex data not supported")
        if arr.dtype.kind not in "biuf" and not (arr.dtype.kind in "OU" and arr.size):
            raise DataError(f"X must hold real numbers, got dtype {arr.dtype}")
        if arr.shape[0] == 0:
            raise DataError("X has 0 samples")
        if arr.shape[1] == 0:
            raise DataError(f"Found array with 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise DataError("X contains NaN or infinity")
        return arr.astype(object) if arr.dtype.kind == "U" else arr  # decimal strings, read exactly

    @staticmethod
    def _check_y(y: Any, n: int) -> list:
        if y is None:
            raise DataError("TruncationClassifier requires y to be passed, but the target y is None")
        arr = np.asarray(y)
        if arr.ndim == 2 and arr.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please change the shape "
                "of y to (n_samples, ), for example using ravel().",
                _also_sklearn(DataConversionWarning),
                stacklevel=3,
            )
            arr = arr.ravel()
        if arr.ndim != 1:
            raise DataError(f"y must be 1-dimensional, got shape {arr.shape}")
        if arr.shape[0] != n:
            raise DataError(f"X has {n} samples but y has {arr.shape[0]}")
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)):
                raise DataError("y contains NaN or infinity")
            if not np.all(arr == np.round(arr)):
                raise DataError("Unknown label type: continuous targets; a classifier needs class labels")
        return arr.tolist()
