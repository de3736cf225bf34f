"""The pure core of healthcode: evidence, rules and the status derivation (no I/O, no clock)."""
