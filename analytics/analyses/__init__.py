"""Analyses over the canonical log: each a subpackage or module named after its job."""
