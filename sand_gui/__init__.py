"""sand_gui: dysarthria severity assessment in ALS from eight speech tasks.

The core (everything outside ``sand_gui.ui``) is Qt-free and importable without a
display; torch and timm are imported only by the modules that need them
(``features``, ``model``, ``pipeline``) so that the window never waits on them.
"""

__version__ = "0.1.0"
