"""Using a trained bundle: ``evaluate`` (scores on a labelled sheet), ``predict`` (a SAND
submission CSV) and ``preprocess`` (fill the feature cache). Without a model path the
bundled model (``sand_gui.resources``) is used.

Recording probabilities come from ``sand_gui.model.Classifier.predict_recording`` and the
patient's class from ``sand_gui.votes.majority_vote``: the application's code, so a
score printed here is the score of what the application would say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sand_gui.batch import submission_csv
from sand_gui.bundle import load_bundle, save_bundle
from sand_gui.dataset import TEST_SHEET, TRAINING_SHEET, Patient, SandLayout
from sand_gui.errors import DatasetError, UsageError, one_line
from sand_gui.features import FeatureSpec, to_windows
from sand_gui.model import Classifier
from sand_gui.resources import default_bundle_path

from .data import Skip, list_recordings, load_items, resolve_sheet, select_patients
from .metrics import evaluate_records, ordinal_report, patient_votes, support_warnings


def model_path(model: str | Path | None) -> Path:
    """``model``, or the bundled model when None (``sand_gui.resources``)."""
    if model:
        return Path(model)
    path = default_bundle_path()
    if path is None:
        raise UsageError("no model bundle is shipped with this installation; pass --model FILE.")
    return path


def _records(clf: Classifier, items, *, progress: bool) -> list[tuple]:
    from tqdm import tqdm

    out = []
    for it in tqdm(items, desc="predict", unit="rec", disable=not progress, leave=False):
        probs, _note = clf.predict_recording(to_windows(it.features, n_frames=clf.spec.n_frames))
        out.append((it.ref.patient, it.ref.task, probs))
    return out


def _items(layout: SandLayout, sheet: str, spec: FeatureSpec, *, labelled: bool, cache, progress: bool):
    patients = select_patients(layout, sheet)
    refs, missing = list_recordings(layout, patients, labelled=labelled)
    items, skipped = load_items(refs, spec=spec, cache=cache, progress=progress)
    return patients, items, missing + skipped


def evaluate(
    model: str | Path | None,
    data: str | Path,
    *,
    sheet: str = "val",
    cache=None,
    device: str = "auto",
    progress: bool = False,
    write_card: str | None = None,
    workers: int = 1,
) -> dict:
    """Both levels' scores of a bundle (None: the bundled model) on a labelled sheet (JSON
    form: see ``training.metrics``), with a warning for each class of fewer than 5 patients.
    A fused bundle adds ``fusion``: the network's, the measures classifier's and the fusion's
    patient-level scores side by side (``fusion_scores``), the recordings measured by
    ``workers`` processes.

    ``write_card``: also store the result in the bundle's card under ``metrics[write_card]``.
    """
    path = model_path(model)
    bundle = load_bundle(path)
    clf = Classifier(bundle, device=device)
    patients, items, skipped = _items(SandLayout(data), sheet, clf.spec, labelled=True, cache=cache, progress=progress)
    if not items:
        raise DatasetError(f"{one_line(data)}: no usable recording for sheet '{one_line(resolve_sheet(sheet))}'.")
    labels = {p.id: p.label for p in patients}
    result = {"model": bundle.card.name, "model_file": str(path), "data": str(data), "sheet": resolve_sheet(sheet)}
    records = _records(clf, items, progress=progress)
    result |= evaluate_records(records, labels, bundle.card.class_numbers, rule=bundle.card.vote)
    if bundle.card.fusion is not None:
        from sand_gui.measures import MeasuresUnavailable

        try:
            result["fusion"] = fusion_scores(
                bundle, SandLayout(data), patients, records, cache=cache, workers=workers, progress=progress
            )
        except MeasuresUnavailable as exc:  # the network's scores still stand; say why the others are missing
            result["fusion"] = None
            result["fusion_unavailable"] = str(exc)
    result["skipped"] = [str(s) for s in skipped]
    result["warnings"] = support_warnings(result["patient_level"], result["classes"])
    if result.get("fusion_unavailable"):
        result["warnings"].append(f"no measures or fusion scores: {result['fusion_unavailable']}")
    if write_card:
        entry = {
            "data": Path(data).name,
            "sheet": result["sheet"],
            "recording_level": result["recording_level"],
            "patient_level": result["patient_level"],
        }
        if result.get("fusion"):  # each part's whole patient-level report: the card dialog shows them as evaluations
            entry["fusion"] = {k: result["fusion"][k] for k in ("network", "measures", "fusion")}
        store_card_metric(bundle, write_card, entry)
    return result


def store_card_metric(bundle, key: str, entry: dict) -> None:
    """Write ``entry`` into the card of ``bundle`` (a loaded ``Bundle``) as ``metrics[key]``;
    the file is rewritten and sealed again, its weights untouched."""
    card = bundle.card
    card.metrics[key] = entry
    card.weights_sha256 = ""
    save_bundle(bundle.path, bundle.state_dict, card, measures_model=bundle.measures_model)


def fusion_scores(
    bundle, layout: SandLayout, patients, records, *, cache=None, workers: int = 1, progress=False
) -> dict:
    """Patient-level reports of the network (its vote), the measures classifier alone and the
    fusion (the app's rule, ``sand_gui.fusion.combine``) on the patients the network can score,
    each with the ordinal scores (MAE, QWK) beside macro-F1."""
    import numpy as np

    from sand_gui.fusion import Fusion, combine

    from .measures_fit import patient_measures, vectors

    fusion = Fusion.from_bundle(bundle)
    classes = bundle.card.class_numbers
    verdicts = patient_votes(records, classes, rule=bundle.card.vote)
    chosen = [p for p in patients if p.id in verdicts]
    refs, _ = list_recordings(layout, chosen, labelled=True)
    measures = patient_measures(chosen, refs, spec=bundle.card.spec, cache=cache, workers=workers, progress=progress)
    ids, y = [p.id for p in chosen], [p.label for p in chosen]
    net = np.array([[verdicts[i].mean_probabilities[c] for c in classes] for i in ids])
    votes = np.array([verdicts[i].final_class for i in ids])
    x = vectors(measures, ids)
    meas = fusion.probabilities_of(x)
    alone = [classes[int(k)] for k in meas.argmax(axis=1)]
    meas[np.isnan(x).all(axis=1)] = np.nan  # no measure at all: the network alone, as in the app
    fused = combine(fusion.decision, fusion.w_network, net, votes, meas, classes)
    return {
        "decision": fusion.decision,
        "rule": fusion.describe(),
        "without_measures": int(np.isnan(x).all(axis=1).sum()),
        "network": ordinal_report(y, [int(v) for v in votes], classes),
        "measures": ordinal_report(y, alone, classes),
        "fusion": ordinal_report(y, [int(v) for v in fused], classes),
    }


def format_side_by_side(f: dict) -> str:
    """The three patient-level reports of ``fusion_scores`` as one table."""
    cols = ("network", "measures", "fusion")
    lines = [f"Patient level, side by side ({f['fusion']['n']} patients; fusion rule: {f['rule']})"]
    lines.append(f"{'':<14}{'ConvNeXt':>10}{'measures':>10}{'fusion':>10}")

    def row(name: str, values) -> str:
        return f"{name:<14}" + "".join(f"{'n/a':>10}" if v is None else f"{v:>10.3f}" for v in values)

    lines.append(row("macro-F1", [f[c]["macro_f1"] for c in cols]))
    lines.append(row("accuracy", [f[c]["accuracy"] for c in cols]))
    lines.append(row("MAE", [f[c].get("mean_absolute_error") for c in cols]))
    lines.append(row("QWK", [f[c].get("quadratic_weighted_kappa") for c in cols]))
    for k in f["network"]["per_class"]:
        lines.append(row(f"F1 class {k}", [f[c]["per_class"][k]["f1"] for c in cols]))
    if f["without_measures"]:
        lines.append(f"{f['without_measures']} patient(s) without any measure: the network's vote stands for them.")
    return "\n".join(lines)


@dataclass
class Submission:
    """A SAND submission: ``csv`` (``ID,CLASS``, one row per patient of the sheet, IDs as the
    workbook writes them), what was skipped, and why each patient without a result has none."""

    csv: str
    patients: int
    skipped: list[Skip] = field(default_factory=list)
    unusable: dict[str, str] = field(default_factory=dict)  # submission ID -> one line: why no result
    filled: int | None = None  # the class written for those patients, or None: they are missing

    @property
    def complete(self) -> bool:
        return not self.unusable or self.filled is not None

    def check_complete(self, data: object) -> None:
        """DatasetError when a patient has no class: a SAND submission must list everyone."""
        if not self.complete:
            ids = list(self.unusable)
            raise DatasetError(
                f"{one_line(Path(str(data)).name)}: no usable recording for {len(ids)} patient(s) "
                f"({', '.join(one_line(i, limit=40) for i in ids[:5])}{', ...' if len(ids) > 5 else ''}); "
                "the submission would be incomplete (pass --fill CLASS to write a class for them)."
            )


def _why(patient: Patient, lines: list[Skip]) -> str:
    """One line: why ``patient`` has no result (from its skipped recordings)."""
    mine = [s for s in lines if s.patient == patient.id]
    reasons = "; ".join(f"{s.task}: {s.reason}" if s.task else s.reason for s in mine) or "no usable recording"
    shown = patient.id if patient.submission_id == patient.id else f"{patient.submission_id} ({patient.id})"
    return f"{one_line(shown, limit=60)}: no usable recording ({reasons})"


def predict(
    model: str | Path | None,
    data: str | Path | None,
    *,
    sheet: str = TEST_SHEET,
    test_root: str | Path | None = None,
    cache=None,
    device: str = "auto",
    progress: bool = False,
    fill: int | None = None,
) -> Submission:
    """A SAND submission for the patients of ``sheet`` (default: the test workbook's).

    ``data`` is the release root and ``test_root`` a separately unpacked test set (either
    may be left out when the other holds everything). A patient without a usable
    recording gets a line saying why, and the class ``fill`` when given; see
    ``Submission.check_complete``.
    """
    if data is None and test_root is None:
        raise UsageError("predict needs --data or --test-data.")
    bundle = load_bundle(model_path(model))
    clf = Classifier(bundle, device=device)
    if fill is not None and fill not in bundle.card.class_numbers:
        raise UsageError(
            f"--fill {fill}: not a class of this model ({', '.join(map(str, bundle.card.class_numbers))})."
        )
    layout = SandLayout(data if data is not None else test_root, test_root=test_root)
    patients, items, skipped = _items(layout, sheet, clf.spec, labelled=False, cache=cache, progress=progress)
    verdicts = patient_votes(_records(clf, items, progress=progress), bundle.card.class_numbers, rule=bundle.card.vote)
    unusable = {p.submission_id: _why(p, skipped) for p in patients if p.id not in verdicts}
    classes = {pid: v.final_class for pid, v in verdicts.items()}
    text, _ = submission_csv([(p.submission_id, p.id) for p in patients], classes, fill=fill)  # the workbench's writer
    return Submission(text, len(patients), skipped, unusable, fill)


def preprocess(
    data: str | Path,
    cache: str | Path,
    spec: FeatureSpec,
    *,
    sheets: list[str] | None = None,
    test_root: str | Path | None = None,
    progress: bool = False,
    workers: int = 1,
) -> dict:
    """Compute and cache the features of every recording of ``sheets`` (default: all
    training patients, plus the test patients when the test workbook is present), in
    ``workers`` processes."""
    from .data import FeatureCache

    layout = SandLayout(data, test_root=test_root)
    if not sheets:
        sheets = [TRAINING_SHEET] + ([TEST_SHEET] if layout.test_workbook() is not None else [])
    refs, missing = [], []
    for sheet in sheets:
        r, m = list_recordings(layout, select_patients(layout, sheet), labelled=False)
        refs += r
        missing += m
    store = FeatureCache(cache, spec)
    items, skipped = load_items(refs, spec=spec, cache=store, progress=progress, desc="preprocess", workers=workers)
    return {
        "cache": str(store.dir),
        "recordings": len(items),
        "computed": store.misses,
        "reused": store.hits,
        "skipped": [str(s) for s in missing + skipped],
    }
