"""Reusable pieces of the dashboard: the filter bar, the page frame, tiles, tables."""
