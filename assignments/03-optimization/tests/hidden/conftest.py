"""Oracles of assignment 03's hidden tests only; this file never ships to students.

pytest loads it for the tests under tests/hidden/ only (the release and
``dlgrade check`` leave the folder out). It holds the oracles that re-implement,
in numpy, something that students must write themselves: published with the
public tests, they would be solutions to copy.

Its ``oracle`` fixture extends the public one of ``tests/conftest.py`` (torch.optim
trajectories, Newton's closed form, the test problems by autograd and scipy, epochs
to tolerance, batch norm, ...; all reached through it) with:

- ``bfgs_inverse_hessian``: the L-BFGS inverse-Hessian approximation as an explicit
  dense matrix, the check of ``lbfgs_direction``'s two-loop recursion.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.testing import ExtendedOracle


class Oracle(ExtendedOracle):
    """The public oracle (``tests/conftest.py``) plus the hidden tests' own references.
    Attributes it lacks come from the public oracle."""

    @staticmethod
    def bfgs_inverse_hessian(s_history, y_history) -> np.ndarray:
        """The L-BFGS inverse-Hessian approximation as an explicit (n, n) matrix.

        H0 = gamma I with gamma = s.y / y.y of the newest pair, then the BFGS update
        H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T for every pair, oldest first
        (rho = 1 / y.s). Needs at least one pair (without pairs the direction is -g).
        """
        n = len(s_history[0])
        eye = np.eye(n)
        s, y = s_history[-1], y_history[-1]
        H = (s @ y) / (y @ y) * eye
        for s, y in zip(s_history, y_history, strict=True):
            rho = 1.0 / (y @ s)
            H = (eye - rho * np.outer(s, y)) @ H @ (eye - rho * np.outer(y, s)) + rho * np.outer(s, s)
        return H


@pytest.fixture(scope="session")
def oracle(oracle) -> Oracle:
    """The public ``oracle`` with the hidden tests' own references (see ``Oracle``)."""
    return Oracle(oracle)
