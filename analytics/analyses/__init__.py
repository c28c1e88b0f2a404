"""Analyses built on the metrics: estimation without labels, and (after the refactor) segments, compare, drift, value, health."""
