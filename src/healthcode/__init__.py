"""healthcode: health codes derived from signed evidence under published rules."""
