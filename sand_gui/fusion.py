"""Placeholder: being written this round (see the issue it belongs to)."""
