"""Using a trained bundle: ``evaluate`` (scores on a labelled sheet), ``predict`` (a SAND
submission CSV) and ``preprocess`` (fill the feature cache).

Recording probabilities come from ``sand_gui.model.Classifier.predict_recording`` and the
patient's class from ``sand_gui.votes.majority_vote``: the application's code, so a
score printed here is the score of what the application would say.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sand_gui.bundle import load_bundle, save_bundle
from sand_gui.dataset import SandLayout, TEST_SHEET, TRAINING_SHEET, TEST_WORKBOOK
from sand_gui.errors import DatasetError
from sand_gui.features import FeatureSpec, to_windows
from sand_gui.model import Classifier

from .data import list_recordings, load_items, resolve_sheet, select_patients
from .metrics import evaluate_records, patient_votes


def _records(clf: Classifier, items, *, progress: bool) -> list[tuple]:
    from tqdm import tqdm

    out = []
    for it in tqdm(items, desc="predict", unit="rec", disable=not progress, leave=False):
        probs, note = clf.predict_recording(to_windows(it.features, n_frames=clf.spec.n_frames))
        out.append((it.ref.patient, it.ref.task, probs))
    return out


def _items(root: str | Path, sheet: str, spec: FeatureSpec, *, labelled: bool, cache, progress: bool):
    layout = SandLayout(root)
    patients = select_patients(layout, sheet)
    refs, missing = list_recordings(layout, patients, labelled=labelled)
    items, skipped = load_items(refs, spec=spec, cache=cache, progress=progress)
    return patients, items, missing + skipped


def evaluate(model: str | Path, data: str | Path, *, sheet: str = "val", cache=None, device: str = "auto",
             progress: bool = False, write_card: str | None = None) -> dict:
    """Both levels' scores of a bundle on a labelled sheet (JSON form: see ``training.metrics``).

    ``write_card``: also store the result in the bundle's card under ``metrics[write_card]``.
    """
    bundle = load_bundle(model)
    clf = Classifier(bundle, device=device)
    patients, items, skipped = _items(data, sheet, clf.spec, labelled=True, cache=cache, progress=progress)
    if not items:
        raise DatasetError(f"{data}: no usable recording for sheet {resolve_sheet(sheet)!r}.")
    labels = {p.id: p.label for p in patients}
    result = {"model": bundle.card.name, "data": str(data), "sheet": resolve_sheet(sheet)}
    result |= evaluate_records(_records(clf, items, progress=progress), labels, bundle.card.class_numbers)
    result["skipped"] = skipped
    if write_card:
        card = bundle.card
        card.metrics[write_card] = {"data": Path(data).name, "sheet": result["sheet"],
                                    "recording_level": result["recording_level"], "patient_level": result["patient_level"]}
        card.weights_sha256 = ""
        save_bundle(bundle.path, bundle.state_dict, card)
    return result


def predict(model: str | Path, data: str | Path, *, sheet: str = TEST_SHEET, cache=None, device: str = "auto",
            progress: bool = False) -> tuple[str, list[str]]:
    """A SAND submission (``ID,CLASS``, one row per patient of ``sheet``) and skipped lines.

    DatasetError when a patient of the sheet has no usable recording: a submission must
    be complete.
    """
    bundle = load_bundle(model)
    clf = Classifier(bundle, device=device)
    patients, items, skipped = _items(data, sheet, clf.spec, labelled=False, cache=cache, progress=progress)
    verdicts = patient_votes(_records(clf, items, progress=progress), bundle.card.class_numbers)
    absent = [p.id for p in patients if p.id not in verdicts]
    if absent:
        raise DatasetError(f"{Path(data).name}: no usable recording for {len(absent)} patient(s) ({', '.join(absent[:5])}"
                           f"{', ...' if len(absent) > 5 else ''}); the submission would be incomplete.")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["ID", "CLASS"])
    for p in patients:
        w.writerow([p.id, verdicts[p.id].final_class])
    return buf.getvalue(), skipped


def preprocess(data: str | Path, cache: str | Path, spec: FeatureSpec, *, sheets: list[str] | None = None,
               progress: bool = False) -> dict:
    """Compute and cache the features of every recording of ``sheets`` (default: all
    training patients, plus the test patients when the test workbook is present)."""
    from .data import FeatureCache

    layout = SandLayout(data)
    if not sheets:
        sheets = [TRAINING_SHEET] + ([TEST_SHEET] if (layout.root / TEST_WORKBOOK).is_file() else [])
    refs, missing = [], []
    for sheet in sheets:
        r, m = list_recordings(layout, select_patients(layout, sheet), labelled=False)
        refs += r
        missing += m
    store = FeatureCache(cache, spec)
    items, skipped = load_items(refs, spec=spec, cache=store, progress=progress, desc="preprocess")
    return {"cache": str(store.dir), "recordings": len(items), "computed": store.misses, "reused": store.hits,
            "skipped": missing + skipped}
