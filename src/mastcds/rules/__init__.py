"""Pure clinical rules: no I/O, no globals; each threshold named beside its source."""
