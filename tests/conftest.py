"""Shared fixtures: real data (scikit-learn's digits) and a fitted model."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float64), y


@pytest.fixture(scope="session")
def fitted(digits):
    X, y = digits
    return LogisticRegression(max_iter=1000).fit(X[:300], y[:300])
