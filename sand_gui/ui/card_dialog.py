"""The model card, one click away: what the model is, what it was trained on, how it scored."""

from __future__ import annotations

import html
import json

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..bundle import ModelCard

SYNTHETIC_TEXT = ("Demonstration model, trained on synthetic speech, not on patient recordings: "
                  "its classes mean nothing about a real patient. Not a clinical instrument.")


def card_summary(card: ModelCard | None) -> str:
    """One line for the window: name, architecture, training data."""
    if card is None:
        return "No model loaded — choose one in Settings."
    data = str(card.training_data.get("description") or "training data not described")
    if len(data) > 90:
        data = data[:88].rsplit(" ", 1)[0] + "…"
    synth = " · SYNTHETIC training data" if card.synthetic else ""
    return f"Model: {card.name} ({card.architecture}) · trained on: {data}{synth}"


def card_html(card: ModelCard) -> str:
    e = html.escape
    rows = [
        ("Name", card.name), ("Architecture", f"{card.architecture} {json.dumps(card.arch_kwargs) if card.arch_kwargs else ''}"),
        ("Classes", ", ".join(f"{n}: {l}" for n, l in zip(card.class_numbers, card.class_labels))),
        ("Tasks", ", ".join(card.tasks)), ("Created", card.created), ("Weights SHA-256", card.weights_sha256[:16] + "…"),
        ("Software", ", ".join(f"{k} {v}" for k, v in card.software.items())),
    ]
    parts = [f"<h2>{e(card.name)}</h2>"]
    if card.synthetic:
        parts.append(f"<p style='background:#fff3b0;padding:6px'><b>{e(SYNTHETIC_TEXT)}</b></p>")
    parts.append("<table cellpadding=3>" + "".join(f"<tr><td><b>{e(k)}</b></td><td>{e(str(v))}</td></tr>" for k, v in rows) + "</table>")
    parts.append("<h3>Training data</h3><table cellpadding=3>" + "".join(
        f"<tr><td><b>{e(str(k))}</b></td><td>{e(json.dumps(v) if not isinstance(v, str) else v)}</td></tr>" for k, v in card.training_data.items()) + "</table>")
    parts.append("<h3>Measured performance</h3>")
    if card.metrics:
        parts.append("<table cellpadding=3>" + "".join(
            f"<tr><td><b>{e(str(k))}</b></td><td>{e(json.dumps(v) if not isinstance(v, str) else v)}</td></tr>" for k, v in card.metrics.items()) + "</table>")
    else:
        parts.append("<p>No metrics recorded in this card.</p>")
    parts.append("<h3>Preprocessing (FeatureSpec)</h3><p><code>" + e(json.dumps(card.spec.to_dict())) + "</code></p>")
    if card.notes:
        parts.append(f"<h3>Notes</h3><p>{e(card.notes)}</p>")
    return "".join(parts)


class CardDialog(QDialog):
    def __init__(self, card: ModelCard, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Model card — {card.name}")
        self.resize(640, 560)
        lay = QVBoxLayout(self)
        self.text = QTextBrowser()
        self.text.setHtml(card_html(card))
        lay.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    @classmethod
    def ask(cls, parent: QWidget | None, card: ModelCard) -> None:
        cls(card, parent).exec()
