"""The analyses: segments, compare (like for like), drift, value, roles, health, facts, estimate (label-free),
recommend (what to do about each model), timeline (versions' first days, start of drift)."""
