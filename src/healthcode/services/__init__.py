"""Use cases: one module per capability; plain arguments in, typed results out."""
