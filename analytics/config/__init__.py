"""The workspace: lastmile.toml -> frozen Workspace/ModelSpec, and every section's schema and validator."""
