"""Pure codecs for signed credentials (no I/O, no clock)."""
