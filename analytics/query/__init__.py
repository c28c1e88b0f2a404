"""The query spec: Selection (which rows) and Grouping (which groups), as Ibis predicates and keys."""
