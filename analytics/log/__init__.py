"""Where rows come from: sources, the backend, the joined log, column checks and row defects."""
