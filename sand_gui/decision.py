"""The patient's class as the product shows it: one rule for the window, the reports and the
command line, so they can never show different classes for the same analysis.

- With a fused verdict (``fusion.FusedVerdict``: the bundle carries a measures model and its
  rule) the class is the fused one; ``decided_by`` says which part decided it ("measures",
  "fusion", or "network" when the measures could not be used) and ``reason`` why.
- Without one it is the network's vote (the card's vote rule), ``decided_by`` "network".
- The network's vote always stays beside it (``network_class``), so a disagreement shows.
- Quality before verdict: no class (``number`` None) when ``result.quality_ok`` is False.
- ``waiting``: the result's bundle carries a measures model (``result.model["measures_model"]``)
  but no fused verdict came with it (the measures are still running, or were dropped): the
  network's vote is then shown as that, never as the patient's class.

Qt-free and pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from .classes import DEFAULT_LABELS
from .errors import one_line

DECIDERS = {
    "network": "the network's vote",
    "measures": "the Praat measures classifier",
    "fusion": "the fusion of the network and the Praat measures",
}


@dataclass(frozen=True)
class PatientClass:
    """What the patient's class is, who decided it and what the network voted."""

    number: int | None  # None: no verdict (quality gate, or waiting for the measures)
    label: str
    decided_by: str  # a key of DECIDERS
    reason: str  # why that part decided ("" for a bundle without a measures model)
    network_class: int | None  # the network's vote, whatever decided
    network_label: str
    network_summary: str  # "7 of 8 tasks: class 4" ("" without a vote)
    waiting: bool = False

    @property
    def heading(self) -> str:
        """The line in large type: the class, or why there is none."""
        if self.number is not None:
            return f"Class {self.number} — {self.label}"
        if self.waiting and self.network_class is not None:
            return f"Network vote: class {self.network_class} — {self.network_label}"
        return "Recording quality too low for a verdict"

    @property
    def overrides_vote(self) -> bool:
        """Something other than the network's vote decided (whether or not it agrees)."""
        return self.decided_by != "network"

    def decided_text(self, *, limit: int | None = None, measuring: str | None = None) -> str:
        """One line: who decided and why (the waiting line while the measures are out).
        ``limit``: a reason longer than this is cut at its last colon before the limit (the
        window's short form; the reports keep it whole). ``measuring``: while waiting, how far
        the measures have got ("3 of 8 tasks"); "" when none are being taken (analyse again)."""
        if self.waiting:
            head = "Not the patient's class yet: this model decides with the Praat measures, "
            if measuring is None:
                return head + "which are not in yet (they are computed with each analysis)."
            if measuring:
                return head + f"which are being taken ({measuring} measured)."
            return head + "which were not taken for these recordings: analyse again."
        if self.number is None:
            return ""
        reason = self.reason
        if limit is not None and len(reason) > limit:
            cut = reason.rfind(":", 0, limit)
            reason = (reason[:cut] if cut > 0 else reason[: limit - 1]).rstrip() + " …"
        why = f" ({reason})" if reason else ""
        return one_line(f"Decided by {DECIDERS[self.decided_by]}{why}.", limit=600)

    def vote_text(self) -> str:
        """The network's vote, said as that when something else decided."""
        if not self.network_summary:
            return ""
        if self.overrides_vote:
            agree = "agrees" if self.network_class == self.number else "differs"
            return f"The network's vote {agree}: {self.network_summary}."
        return f"{self.network_summary}."

    def to_dict(self) -> dict:
        return {
            "class": self.number,
            "label": self.label if self.number is not None else None,
            "decided_by": self.decided_by,
            "reason": self.reason,
            "network_class": self.network_class,
            "waiting_for_measures": self.waiting,
        }


def _label(number: int, result, labels: dict | None) -> str:
    if labels and number in labels:
        return str(labels[number])
    v = result.verdict
    if v is not None and number == v.final_class and result.final_label:
        return str(result.final_label)
    return DEFAULT_LABELS.get(number, f"class {number}")


def patient_class(result, fused=None, *, labels: dict | None = None) -> PatientClass:
    """The class to show for ``result`` (an ``AnalysisResult``) and its ``fused`` verdict (or
    None). ``labels``: class number -> label of the model's card (default: the result's own
    label for the vote, the SAND labels otherwise)."""
    v = result.verdict
    net = None if v is None else v.final_class
    net_label = "" if net is None else _label(net, result, labels)
    summary = "" if v is None else v.summary
    base = {"network_class": net, "network_label": net_label, "network_summary": summary}
    if v is None or not result.quality_ok:
        return PatientClass(None, "", "network", result.quality_message, **base)
    if fused is not None and fused.final_class is not None:
        n = int(fused.final_class)
        return PatientClass(n, _label(n, result, labels), fused.used, fused.reason, **base)
    if (result.model or {}).get("measures_model"):
        return PatientClass(None, "", "network", "", **base, waiting=True)
    return PatientClass(net, net_label, "network", "", **base)
