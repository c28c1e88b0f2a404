"""The analyses: segments, compare (like for like), drift, value, roles, health, facts, estimate (label-free)."""
