"""The researcher's workbench: a whole dataset in the window (issue 12)."""
