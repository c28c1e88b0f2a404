"""Every drift statistic, one descriptor each (:mod:`.registry`); importing the package
registers them, in the order of the result's columns. Adding one: a new module here
that calls :func:`~.registry.register`, and its import below."""

from . import psi, js_distance, ks, wasserstein, chi2, anderson_darling  # noqa: F401 - registers each
from .registry import STATISTICS, DriftStatistic, Missing, cell, finish, for_kind, names, register, shown

__all__ = ["STATISTICS", "DriftStatistic", "Missing", "cell", "finish", "for_kind", "names", "register", "shown"]
