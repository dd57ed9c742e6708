"""The display stays readable when the room is small: panels keep a least height, two at a
time when four do not fit, the canvas scrolls instead of squeezing, nothing overlaps, and
the dB and Δ panels carry colour bars. Real audio, the real featurisation and a real canvas."""

from __future__ import annotations

import itertools

import pytest
import soundfile as sf
from sandtest import TEST_SPEC, task_signal

from sand_gui.ui.display import (
    PANEL_MIN_PX,
    VIEWS,
    FeatureView,
    display_data,
    fitting_view,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("display") / "ID042_rhythmPA.wav"
    sf.write(path, task_signal("rhythmPA"), 8000, subtype="PCM_16")
    return display_data(path, "rhythmPA", TEST_SPEC)


def shown(qtbot, data, *, size, view=None) -> FeatureView:
    v = FeatureView()
    qtbot.addWidget(v)
    v.resize(*size)
    v.show()
    qtbot.waitExposed(v)
    if view is not None:
        v.ensure_canvas()
        v.set_view(view)
    v.show_data(data)
    v.canvas.draw()
    return v


def main_axes(v: FeatureView):
    """The panels' axes, top to bottom (colour bars and empty slots left out)."""
    return [ax for ax in v.figure.axes if ax.get_subplotspec().colspan.start == 0]


def test_two_panels_when_four_do_not_fit_and_four_with_colour_bars_when_they_do(qtbot, data):
    v = shown(qtbot, data, size=(760, 330))  # what a 1366x768 window leaves the display
    assert v.view == "overview" and v.panels() == ("wave", "mel")
    assert [ax.get_title(loc="left").split(" · ")[-1] for ax in main_axes(v)] == [
        "waveform (green: kept by the voice detector)",
        "mel spectrogram (dB) of the kept audio",
    ]
    assert v.tabs.tabText(v.tabs.currentIndex()) == VIEWS["overview"][0]
    with qtbot.waitSignal(v.viewChanged, timeout=5000) as sig:
        v.resize(760, 4 * PANEL_MIN_PX + 120)
    assert sig.args == ["all"] and len(main_axes(v)) == 4
    assert fitting_view(4 * PANEL_MIN_PX) == "all" and fitting_view(4 * PANEL_MIN_PX - 1) == "overview"
    # the dB and Δ panels have colour bars, and all four share the recording's time axis
    v.canvas.draw()
    beside = [ax for ax in v.figure.axes if ax.get_subplotspec().colspan.start == 1]  # the colour-bar column
    assert [b.get_ylabel() if b.axison else None for b in beside] == [
        None,
        "dB",
        "z-score",
        "z-score",
    ]
    wave, mel, delta, delta2 = main_axes(v)
    seconds = len(data.samples) / data.spec.sample_rate
    for ax in (wave, mel, delta, delta2):
        assert ax.get_xlim() == pytest.approx((0, seconds))  # one time axis: the recording's
    assert delta2.get_xlabel() == "time in the recording (s)"
    mesh = mel.collections[0]
    x = mesh.get_coordinates()[0, :, 0]
    frame = data.spec.hop_length / data.spec.sample_rate
    assert x[0] + frame / 2 == pytest.approx(
        data.voiced.start / data.spec.sample_rate
    )  # drawn where the kept audio starts


def test_panels_keep_their_height_and_nothing_overlaps(qtbot, data):
    v = shown(qtbot, data, size=(760, 330), view="all")  # four panels in a small room
    renderer = v.canvas.get_renderer()
    axes = main_axes(v)
    assert len(axes) == 4
    for ax in axes:
        assert ax.get_window_extent().height >= 60  # pixels of plot, not ~25 as before
    boxes = [ax.get_tightbbox(renderer) for ax in axes]  # each with its title and tick labels
    for upper, lower in itertools.pairwise(boxes):
        assert upper.y0 >= lower.y1 - 1, "a panel's labels run into the next panel"
    # the canvas is taller than the room: it scrolls rather than squeezing the panels
    assert v.canvas.height() >= 4 * PANEL_MIN_PX
    assert v.scroll.verticalScrollBar().maximum() > 0


def test_a_clicked_tab_stays_chosen(qtbot, data):
    from PySide6.QtCore import Qt

    v = shown(qtbot, data, size=(760, 330))
    index = list(VIEWS).index("deltas")
    qtbot.mouseClick(v.tabs, Qt.MouseButton.LeftButton, pos=v.tabs.tabRect(index).center())
    assert v.view == "deltas" and v.user_chose_view
    titles = [ax.get_title(loc="left") for ax in main_axes(v)]
    assert "Δ, standardised" in titles[0] and titles[1].startswith("Δ²")
    v.resize(760, 900)  # room for four, but the user asked for these two
    qtbot.wait(20)
    assert v.view == "deltas" and len(main_axes(v)) == 2
    with pytest.raises(ValueError, match="view 'cqt'"):
        v.set_view("cqt")


def test_messages_and_data_alternate(qtbot, data):
    v = shown(qtbot, data, size=(760, 330))
    v.show_message("checking the recording…")
    assert v.data is None and v.message.isVisible() and v.message.text() == "checking the recording…"
    v.show_data(data)
    assert v.data is data and not v.message.isVisible()
