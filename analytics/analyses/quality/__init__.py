"""Data quality over time: broken inputs caught before they become bad decisions.

Checks (one file each under :mod:`.checks`; the registry is
``analytics.analyses.quality.checks.CHECKS``) compare each period with the reference
window: missing values, values outside the reference range and quantiles, scale changes,
new and vanished categories, the schema of each file, volume, freshness, duplicate ids
and the positive rate. :func:`.compute.run_quality` runs them (the engine counts);
``[models.quality]`` sets the levels (:mod:`analytics.config.quality`); quality problems
become health reasons through :func:`.health.health_reasons`. The user's description is
``analytics/docs/quality.md``.

>>> from analytics.analyses.quality.compute import run_quality       # doctest: +SKIP
>>> run_quality(engine, "delivery_eta", period="day").problems()      # doctest: +SKIP

This package's ``__init__`` imports nothing: the workspace validator loads the check
catalogue (``.registry``, ``.results``, ``.checks``) without the engine side.
"""
