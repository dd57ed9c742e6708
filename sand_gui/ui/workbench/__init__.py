"""The researcher's workbench: a whole dataset in one window (``window.WorkbenchWindow``).

``grid`` (patients × tasks and filters), ``batch_panel`` and ``confusion`` (the model over the
dataset, its scores and mistakes) belong to the window; the recording views (``inspector``,
``compare``, ``class_mean``, ``explain_view``) are hosted in its tabs.
"""

from __future__ import annotations


def open_workbench(parent=None, *, folder=None):
    """Open a workbench window (a top-level window kept alive by ``parent``); on ``folder`` when given."""
    from .window import WorkbenchWindow

    bundle = getattr(getattr(parent, "model", None), "bundle_path", None)  # the main window's model and device
    window = WorkbenchWindow(bundle=bundle, device=getattr(getattr(parent, "settings", None), "device", "auto"))
    if parent is not None:
        parent.workbenches = [*(w for w in getattr(parent, "workbenches", []) if w.isVisible()), window]
    window.show()
    if folder is not None:
        window.open_dataset(folder)
    else:
        window.open_dataset_dialog()
    return window
