"""Analyses built on the metrics and the log: recommendations, ..."""
