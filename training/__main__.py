"""``python -m training`` = ``sand-train``."""

from .cli import main

raise SystemExit(main())
