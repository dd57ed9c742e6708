"""Training for sand_gui: the seed recipe end to end (``sand-train``, ``python -m training``).

Layout, in the order of a run: ``config`` (the recipe as keys) -> ``data`` (patients,
recordings, cached features from ``sand_gui.features``) -> ``augment`` / ``losses`` ->
``loop`` (``fit``: epochs, validation, checkpoints, bundle) -> ``metrics`` (recording and
patient level, the app's majority vote) -> ``evaluate`` (scores, submission, cache).
``distributed`` adds torchrun / DDP; ``synth`` generates a synthetic corpus.
Importing this package imports neither torch nor Qt.
"""
