"""Late fusion of the network's patient-level probabilities with the measures classifier's.

    fusion = Fusion.from_bundle(bundle)            # None: the bundle carries no measures model
    verdict = fuse(result, measures, fusion)       # result: AnalysisResult; measures: PatientMeasures | None
    verdict.final_class, verdict.used, verdict.reason, verdict.to_dict()

The rule (stored in the bundle's card under ``fusion``, chosen on validation patients only by
``training.fusion_fit``):

- The network's patient-level probabilities are the mean of its usable tasks' probabilities
  (``Verdict.mean_probabilities``); its own decision is today's vote (the card's vote rule).
- The measures classifier (XGBoost, ``multi:softprob``) gets the patient's measure vector
  (``sand_gui.measures.vector``). A measure that could not be taken is a missing value, which
  XGBoost routes down the branch it learned for missing values: a patient with some measures
  missing still gets the fusion.
- ``decision`` "weighted": class = argmax of ``w * network + (1 - w) * measures``;
  "network": the network's vote (the validation patients preferred it);
  "measures": argmax of the measures' probabilities.
- No measure at all (none computed, Praat missing, every measure "not measurable", or measured
  with other settings than the bundle's): the network alone, with the reason.
- No usable network task: no verdict (``final_class`` None), as without fusion.

Qt-free; xgboost is imported only when a bundle with a measures model is turned into a Fusion.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .bundle import Bundle
from .errors import BundleError, one_line
from .measures.results import PatientMeasures
from .measures.vector import FEATURE_NAMES, measures_identity, settings_problem, vectorise

USED = ("fusion", "network", "measures")
DECISIONS = ("weighted", "network", "measures")


@dataclass
class FusedVerdict:
    """The patient's class after fusion, and which part decided it.

    ``final_class`` None: no verdict (no usable network task). ``used`` is "fusion", "network" or
    "measures"; ``reason`` is one line saying why (shown beside the class).
    """

    final_class: int | None
    probabilities: dict[int, float]
    used: str
    reason: str
    network_probabilities: dict[int, float] = field(default_factory=dict)
    measures_probabilities: dict[int, float] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)  # "network", "measures" when fused
    missing_measures: int = 0  # measures fed to the classifier as missing values

    def to_dict(self) -> dict:
        """Strict-JSON form (probabilities keyed by the class number as text)."""

        def probs(d: dict[int, float]) -> dict[str, float]:
            return {str(k): round(float(v), 6) for k, v in d.items()}

        d = {
            "final_class": self.final_class,
            "probabilities": probs(self.probabilities),
            "used": self.used,
            "reason": self.reason,
            "network_probabilities": probs(self.network_probabilities),
            "measures_probabilities": probs(self.measures_probabilities),
            "weights": {k: round(float(v), 6) for k, v in self.weights.items()},
            "missing_measures": self.missing_measures,
        }
        json.dumps(d, allow_nan=False)  # finite or refused, here rather than in a report writer
        return d


class Fusion:
    """The measures classifier of a bundle and the rule that combines it with the network."""

    def __init__(self, booster, *, section: dict, class_numbers: list[int], sample_rate: int, source: str = "bundle"):
        self.booster = booster
        self.section = section
        self.class_numbers = [int(c) for c in class_numbers]
        self.sample_rate = int(sample_rate)
        self.decision = section["decision"]
        self.w_network = float(section["w_network"])
        self.source = source
        index = {name: i for i, name in enumerate(FEATURE_NAMES)}
        self.columns = np.array([index[n] for n in section["feature_names"]], dtype=np.intp)  # its vector's order

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> Fusion | None:
        """The bundle's fusion, or None when it carries no measures model.

        A model trained on an older vector whose every measure this version still computes
        (e.g. before the formant ratios were added) reads its own columns, picked by name.
        BundleError (one sentence) when it names a measure this version does not compute, or was
        trained on other measures settings: its probabilities would be meaningless. The model JSON was already checked (shape, strict JSON) by the loader.
        """
        section = bundle.card.fusion
        if section is None or bundle.measures_model is None:
            return None
        source = one_line(bundle.path.name)
        unknown = [n for n in section["feature_names"] if n not in FEATURE_NAMES]
        if unknown:
            raise BundleError(
                f"{source}: its measures model was trained on another measure vector "
                f"({len(unknown)} of its {len(section['feature_names'])} measures, e.g. "
                f"{one_line(unknown[0], limit=60)}, are not computed by this version); it cannot be used."
            )
        want = measures_identity(sample_rate=bundle.card.spec.sample_rate)
        if section["measures"] != want:
            raise BundleError(
                f"{source}: its measures model was trained on measures taken with other settings "
                f"(settings {one_line(section['measures'].get('settings_sha256', '?'), limit=16)}, "
                f"this version {want['settings_sha256'][:16]}); it cannot be used."
            )
        return cls(
            load_booster(bundle.measures_model, source=source),
            section=section,
            class_numbers=bundle.card.class_numbers,
            sample_rate=bundle.card.spec.sample_rate,
            source=source,
        )

    @property
    def fixed_because(self) -> str | None:
        """Why the rule was fixed by whoever fused the bundle (``sand-train fuse --rule``), or None
        when it is the one the validation patients preferred."""
        why = self.section.get("validation", {}).get("fixed_because")
        return one_line(why, limit=200) if isinstance(why, str) and why.strip() else None

    def describe(self) -> str:
        """One line: the rule, e.g. "fusion of the network (w=0.6) and the measures (w=0.4)"."""
        why = f"fixed: {self.fixed_because}" if self.fixed_because else "validation preferred it to the fusion"
        if self.decision == "network":
            return f"the network's vote ({why})"
        if self.decision == "measures":
            return f"the measures classifier alone ({why})"
        rule = f"fusion of the network (w={self.w_network:.2f}) and the measures (w={1 - self.w_network:.2f})"
        return f"{rule} ({why})" if self.fixed_because else rule

    def probabilities_of(self, vectors: np.ndarray) -> np.ndarray:
        """Class probabilities [shape=(n, n_classes)] of measure vectors [shape=(n, len(FEATURE_NAMES))]
        with NaN for missing measures (the model's own columns are picked from them)."""
        import xgboost as xgb

        x = np.asarray(vectors, dtype=np.float32).reshape(-1, len(FEATURE_NAMES))[:, self.columns]
        p = self.booster.predict(xgb.DMatrix(x, missing=np.nan, feature_names=None))
        p = np.asarray(p, dtype=np.float64).reshape(len(x), len(self.class_numbers))
        if not np.isfinite(p).all():
            raise BundleError(f"{self.source}: its measures model returned probabilities that are not finite.")
        return p

    def measures_probabilities(self, measures: PatientMeasures) -> np.ndarray:
        """Class probabilities [shape=(n_classes,)] of one patient's measures."""
        return self.probabilities_of(vectorise(measures)[None, :])[0]


def load_booster(raw: bytes, *, source: str = "bundle"):
    """An XGBoost Booster from its native JSON model (checked by ``bundle.check_measures_model``
    first: XGBoost's JSON loader builds trees from numbers and never executes code)."""
    import xgboost as xgb

    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(raw))
    except xgb.core.XGBoostError as exc:
        raise BundleError(f"{source}: its measures model cannot be read ({one_line(exc, limit=120)}).") from None
    return booster


def combine(
    decision: str,
    w_network: float,
    network: np.ndarray,
    votes: np.ndarray,
    measures: np.ndarray,
    class_numbers: list[int],
) -> np.ndarray:
    """Classes [shape=(n,)] by one rule from the network's mean probabilities ``network`` and the
    measures' ``measures`` [both shape=(n, n_classes)] and the network's majority ``votes``
    [shape=(n,)]. A row of ``measures`` that is all NaN (no measure) takes the network's vote.
    Ties in the argmax go to the more severe (lower) class. Training and the app share it."""
    classes = np.asarray(class_numbers)
    votes = np.asarray(votes)
    if decision == "network":
        return votes.copy()
    w = 0.0 if decision == "measures" else float(w_network)
    p = w * np.asarray(network, dtype=np.float64) + (1 - w) * np.asarray(measures, dtype=np.float64)
    none = np.isnan(p).any(axis=1)
    out = classes[np.argmax(np.nan_to_num(p, nan=-1.0), axis=1)]  # argmax: the first (lowest) class on ties
    return np.where(none, votes, out)


def _no_verdict() -> FusedVerdict:
    return FusedVerdict(None, {}, "network", "no verdict: no recording could be used by the network")


def fuse(result, measures: PatientMeasures | None, fusion: Fusion | None) -> FusedVerdict:
    """The patient's class from an ``AnalysisResult``, its measures (or None) and the bundle's
    fusion (or None); see the module docstring for the rule."""
    verdict = result.verdict
    if verdict is None:
        return _no_verdict()
    net = {int(c): float(p) for c, p in verdict.mean_probabilities.items()}
    alone = FusedVerdict(verdict.final_class, dict(net), "network", "", network_probabilities=net)
    if fusion is None:
        alone.reason = "network only: the bundle carries no measures model"
        return alone
    why = _measures_unusable(measures, fusion)
    if why:
        alone.reason = f"network only: {why}"
        return alone
    vector = vectorise(measures)
    missing = int(np.isnan(vector).sum())
    mp = fusion.probabilities_of(vector[None, :])[0]
    meas = {c: float(p) for c, p in zip(fusion.class_numbers, mp)}
    note = f" ({missing} of {len(vector)} measures missing)" if missing else ""
    fixed = f"fixed by the bundle's maker: {fusion.fixed_because}" if fusion.fixed_because else ""
    if fusion.decision == "network":
        alone.measures_probabilities, alone.missing_measures = meas, missing
        why = fixed or "the bundle's validation patients scored best with the network's vote"
        alone.reason = f"network only: {why}"
        return alone
    w = 0.0 if fusion.decision == "measures" else fusion.w_network
    p = {c: w * net[c] + (1 - w) * meas[c] for c in fusion.class_numbers}
    row = np.array([[net[c] for c in fusion.class_numbers]])
    final = int(combine(fusion.decision, w, row, np.array([verdict.final_class]), mp[None, :], fusion.class_numbers)[0])
    if fusion.decision == "measures":
        why = fixed or "the bundle's validation patients scored best with them"
        used, reason = "measures", f"measures only: {why}{note}"
    else:
        rule = f"fusion of the network (w={w:.2f}) and the measures (w={1 - w:.2f})"
        used, reason = "fusion", f"{rule} ({fixed}){note}" if fixed else f"{rule}{note}"
    return FusedVerdict(
        final,
        p,
        used,
        reason,
        network_probabilities=net,
        measures_probabilities=meas,
        weights={"network": w, "measures": 1 - w},
        missing_measures=missing,
    )


def _measures_unusable(measures: PatientMeasures | None, fusion: Fusion) -> str:
    """Why the measures cannot be fed to the classifier ("" when they can)."""
    if measures is None:
        return "no measure could be taken (the measures were not computed)"
    problem = settings_problem(measures, sample_rate=fusion.sample_rate)
    if problem:
        return problem
    if np.isnan(vectorise(measures)).all():
        return "no measure could be taken (every measure is not measurable)"
    return ""
