"""Live input level: a bar in dBFS with a held peak mark and a clipping lamp."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

FLOOR_DB = -60.0
PEAK_HOLD_S = 1.5
CLIP_HOLD_S = 2.0


def to_db(x: float) -> float:
    return FLOOR_DB if x <= 0 else max(FLOOR_DB, 20 * math.log10(x))


class LevelMeter(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(160)
        self.peak_db = FLOOR_DB
        self.rms_db = FLOOR_DB
        self.held_db = FLOOR_DB
        self._held_at = 0.0
        self._clip_at = -1e9
        self.clipping = False
        self.setToolTip(
            "Input level (dBFS). Green: good; red lamp: clipping — ask the patient to move back or lower the gain."
        )

    def sizeHint(self) -> QSize:
        return QSize(240, 22)

    def set_level(self, peak: float, rms: float = 0.0, clipped: bool = False) -> None:
        now = time.monotonic()
        self.peak_db, self.rms_db = to_db(peak), to_db(rms)
        if self.peak_db >= self.held_db or now - self._held_at > PEAK_HOLD_S:
            self.held_db, self._held_at = self.peak_db, now
        if clipped:
            self._clip_at = now
        self.clipping = now - self._clip_at < CLIP_HOLD_S
        self.update()

    def reset(self) -> None:
        self.peak_db = self.rms_db = self.held_db = FLOOR_DB
        self._clip_at = -1e9
        self.clipping = False
        self.update()

    def _x(self, db: float, width: float) -> float:
        return width * (db - FLOOR_DB) / -FLOOR_DB

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        lamp = 34
        w, h = self.width() - lamp - 4, self.height()
        p.fillRect(QRectF(0, 0, w, h), QColor("#303030"))
        colour = (
            QColor("#3cb043") if self.peak_db < -6 else QColor("#e6b422") if self.peak_db < -1 else QColor("#d0312d")
        )
        p.fillRect(QRectF(0, 2, self._x(self.peak_db, w), h - 4), colour.darker(130))
        p.fillRect(QRectF(0, 5, self._x(self.rms_db, w), h - 10), colour)
        p.fillRect(QRectF(self._x(self.held_db, w) - 1, 0, 2, h), QColor("white"))
        p.setPen(QColor("#888888"))
        for db in (-40, -20, -6):
            p.drawLine(int(self._x(db, w)), h - 4, int(self._x(db, w)), h)
        p.fillRect(QRectF(w + 4, 0, lamp, h), QColor("#d0312d") if self.clipping else QColor("#5a2020"))
        p.setPen(QColor("white"))
        p.drawText(QRectF(w + 4, 0, lamp, h), Qt.AlignmentFlag.AlignCenter, "CLIP")
        p.end()
