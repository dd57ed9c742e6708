"""Training module (being written)."""
