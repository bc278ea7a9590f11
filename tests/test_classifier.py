"""Tests of :class:`symtrunc.classifier.TruncationClassifier` (scikit-learn conventions, exact answers)."""

from __future__ import annotations

import numpy as np
import pytest

import symtrunc
from symtrunc.classifier import NotFittedError, TruncationClassifier
from symtrunc.errors import DataError, HypothesisError

X2 = [[2, 0], [3, 0], [2, 1], [3, 1], [0, 2], [0, 3], [1, 2], [1, 3]]
Y2 = ["a"] * 4 + ["b"] * 4


def test_fit_predict_score_and_learned_attributes():
    clf = TruncationClassifier()
    assert clf.fit(X2, Y2) is clf
    assert clf.classes_.tolist() == ["a", "b"] and clf.order_ == ["a", "b"] and clf.n_features_in_ == 2
    assert clf.certificate_.zero_loss and clf.score(X2, Y2) == 1.0
    assert clf.predict(X2).tolist() == Y2
    # the network is the library's construction, and predictions are the exact argmax of its outputs
    assert clf.network_.layers == symtrunc.construct(symtrunc.LabeledData.from_arrays(X2, Y2)).layers
    new = [["0.1", "2.5"], [4, "0.25"]]
    out = clf.network_.forward(new)
    expected = ["a" if out[i, 0] >= out[i, 1] else "b" for i in range(2)]
    assert clf.predict(new).tolist() == expected
    d = clf.decision_function(new)
    assert d.shape == (2,) and [("b" if v > 0 else "a") for v in d] == expected
    # decimal strings are read exactly, as everywhere in symtrunc
    strings = TruncationClassifier().fit([["0.1", "0"], ["0", "0.1"], ["0.2", "0"], ["0", "0.2"]], [0, 1, 0, 1])
    assert strings.network_.construction["steps"][0]["base_point"] == \
        symtrunc.construct(symtrunc.LabeledData.from_arrays(
            [["1/10", 0], [0, "1/10"], ["1/5", 0], [0, "1/5"]], [0, 1, 0, 1])).construction["steps"][0]["base_point"]


def test_three_classes_wine_and_clustered():
    wine = symtrunc.load_wine()
    X = np.array([[float(v) for v in r] for r in wine.X.tolist()])
    y = np.array([wine.classes[j] for j in wine.y])
    clf = TruncationClassifier(cone="paper").fit(X, y)
    assert clf.score(X, y) == 1.0 and clf.decision_function(X[:5]).shape == (5, 3)
    Xc = [[10, 0], [11, 0], [0, 10], [0, 11]]
    clu = TruncationClassifier(method="clustered", options={"mu": None}).fit(Xc, [0, 0, 1, 1])
    assert clu.network_.construction["method"] == "clustered" and clu.score(Xc, [0, 0, 1, 1]) == 1.0


def test_parameters_follow_sklearn_conventions():
    clf = TruncationClassifier(method="clustered", order=["b", "a"])
    assert clf.get_params() == {"method": "clustered", "cone": "rational", "order": ["b", "a"], "options": None}
    assert clf.set_params(method="sls", cone="paper") is clf and clf.cone == "paper"
    assert repr(clf) == "TruncationClassifier(cone='paper', order=['b', 'a'])"
    clf.fit(X2, Y2)
    assert clf.order_ == ["b", "a"]
    with pytest.raises(DataError, match="invalid parameter 'depth'"):
        clf.set_params(depth=3)


def test_errors():
    with pytest.raises(NotFittedError, match="not fitted"):
        TruncationClassifier().predict(X2)
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    # not SLS (class b sits between the points of class a): the error carries the exact certificate
    with pytest.raises(HypothesisError) as e:
        TruncationClassifier().fit([[0, 1], [2, 1], [1, 1], [1, 2]], ["a", "a", "b", "b"])
    assert e.value.certificate is not None
    clf = TruncationClassifier().fit(X2, Y2)
    with pytest.raises(DataError, match="X has 3 features"):
        clf.predict([[1, 2, 3]])
    for X, y, msg in [([1, 2], [0, 1], "2-dimensional"), ([[np.nan, 1], [1, 0]], [0, 1], "NaN"),
                      (X2, Y2[:3], "8 samples but y has 3"), (X2, None, "target y is None"),
                      (np.array([[1 + 1j, 0], [0, 1]]), [0, 1], "Complex"),
                      (X2, [0.5] * 8, "continuous"), ([[1], [2]], [0, 1], "n_features = 1")]:
        with pytest.raises(DataError, match=msg):
            TruncationClassifier().fit(X, y)
    with pytest.raises(DataError, match="unknown method 'magic'"):
        TruncationClassifier(method="magic").fit(X2, Y2)
    with pytest.raises(DataError, match="unknown option.s. bogus for method 'sls'"):
        TruncationClassifier(options={"bogus": 1}).fit(X2, Y2)
    with pytest.raises(DataError, match="unknown option.s. order for method 'clustered'"):
        TruncationClassifier(method="clustered", order=["a", "b"]).fit(X2, Y2)
    with pytest.raises(HypothesisError, match="unknown cone"):
        TruncationClassifier(cone="papr").fit(X2, Y2)


# ----------------------------------------------------------------- scikit-learn's own checks
# scikit-learn's common checks fit on random float blobs. Those rarely satisfy the theorems'
# hypotheses (sequentially linearly separable, at most as many classes as features), so the
# classifier correctly refuses them with HypothesisError/DataError: these checks are expected
# failures. Every other check (parameters, cloning, repr, input validation, pickling, ...) runs.
_NOT_SLS = "random training data violate the hypotheses of Theorem 5.2 (not SLS, or Q > M): refused"
EXPECTED_FAILURES = {name: _NOT_SLS for name in (
    "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_estimators_dtypes", "check_dtype_object", "check_estimators_nan_inf",
    "check_f_contiguous_array_estimator", "check_classifier_data_not_an_array", "check_classifiers_classes",
    "check_classifiers_train", "check_supervised_y_2d", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_dict_unchanged", "check_fit_idempotent",
    "check_fit_check_is_fitted", "check_n_features_in", "check_fit2d_predict1d",
    "check_positive_only_tag_during_fit")}
EXPECTED_FAILURES["check_estimators_unfitted"] = (
    "raises symtrunc.classifier.NotFittedError (a ValueError and AttributeError like scikit-learn's) "
    "rather than sklearn.exceptions.NotFittedError, so that symtrunc does not depend on scikit-learn")

try:
    import sklearn  # noqa: F401
    from sklearn.utils.estimator_checks import parametrize_with_checks
except ImportError:  # scikit-learn is optional (test extra)
    parametrize_with_checks = None

if parametrize_with_checks is not None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # "does not inherit from BaseEstimator": on purpose
        _checks = parametrize_with_checks([TruncationClassifier()],
                                          expected_failed_checks=lambda est: EXPECTED_FAILURES)

    @_checks
    @pytest.mark.filterwarnings("ignore::UserWarning")
    @pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
    def test_sklearn_estimator_checks(estimator, check):
        check(estimator)

    def test_sklearn_clone_and_cross_validation():
        from sklearn.base import clone
        from sklearn.model_selection import cross_val_score

        clf = TruncationClassifier(cone="paper")
        twin = clone(clf)
        assert twin is not clf and twin.get_params() == clf.get_params()
        X = np.array(X2 * 2) + np.repeat([[0, 0], [5, 5]], 8, axis=0)
        y = np.array(Y2 * 2)
        scores = cross_val_score(TruncationClassifier(), X, y, cv=2)
        assert scores.shape == (2,) and all(0 <= s <= 1 for s in scores)
