"""The workbench's recording views: the inspector (the model's own view, unchanged by the live
exploration controls), the comparison on shared axes, the per-class mean, playback of the kept
region and figure export. Real WAV files, the real featurisation, real canvases; grabs of each
view go to tests/output/ for a look."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from matplotlib.collections import QuadMesh
from sandtest import TEST_SPEC, ddk, vowel

from sand_gui import plots
from sand_gui.audio import load_recording
from sand_gui.tasks import get_task
from sand_gui.ui.playback import Player
from sand_gui.ui.workbench import figure_export
from sand_gui.ui.workbench.class_mean import ClassMeanView
from sand_gui.ui.workbench.compare import CompareView
from sand_gui.ui.workbench.explore_controls import DEBOUNCE_MS
from sand_gui.ui.workbench.inspector import EXPLORATION_TAB, InspectorView, TextGridDialog

OUTPUT = Path(__file__).resolve().parents[1] / "output"
STAND_IN = r"""
import sys, soundfile as sf
info = sf.info(sys.argv[-1])
open(sys.argv[1], "w").write(f"{info.frames} {info.samplerate}")
"""


def wav(path: Path, x: np.ndarray, sr: int = 8000) -> Path:
    sf.write(path, x, sr, subtype="PCM_16")
    return path


def keywords(task_id="phonationA", patient_id="ID042", label=3):
    return {"task_id": task_id, "patient_id": patient_id, "label": label, "spec": TEST_SPEC}


def shown(qtbot, path: Path, **kw) -> InspectorView:
    v = InspectorView(player=kw.pop("player", None))
    qtbot.addWidget(v)
    v.resize(1000, 700)
    v.show()
    v.show_recording(path, **keywords(**kw))
    qtbot.waitUntil(lambda: v.exploration is not None, timeout=60000)
    return v


def mesh_arrays(fig) -> list[np.ndarray]:
    """The spectrogram panels' images (colour bars left out)."""
    panels = [ax for ax in fig.axes if ax.get_title(loc="left")]
    return [np.asarray(c.get_array()).copy() for ax in panels for c in ax.collections if isinstance(c, QuadMesh)]


def test_the_model_view_is_the_model_input_and_exploration_never_changes_it(qtbot, tmp_path):
    path = wav(tmp_path / "ID042_phonationA.wav", vowel(2.0, seed=4))
    v = shown(qtbot, path)
    samples = load_recording(path, sample_rate=8000, bandlimit_hz=TEST_SPEC.bandlimit_hz).samples
    expected = plots.model_view(samples, spec=TEST_SPEC, family="phonation")
    for k in expected:
        assert np.array_equal(v.model_arrays()[k], expected[k]), k
    assert v.tabs.tabText(0).startswith("Model input (FeatureSpec: 8000 Hz, 64 mels 50-4000 Hz")
    assert v.tabs.tabText(1) == EXPLORATION_TAB == "Exploration — not the model's input"
    before_model, before_ex = mesh_arrays(v.model_pane.figure), v.exploration.db.copy()
    v.controls.n_mels.setValue(32)
    v.controls.flush()
    assert v.exploration.db.shape == (32, before_ex.shape[1])
    v.controls.n_fft.setCurrentText("1024")
    v.controls.flush()
    assert v.exploration.params.n_fft == 1024 and v.exploration.db.shape[0] == 32
    after_model = mesh_arrays(v.model_pane.figure)
    assert len(after_model) == len(before_model) == 3
    assert all(np.array_equal(a, b) for a, b in zip(after_model, before_model))
    for k in expected:
        assert np.array_equal(v.model_arrays()[k], expected[k]), k
    v.tabs.setCurrentIndex(1)
    OUTPUT.mkdir(exist_ok=True)
    v.grab().save(str(OUTPUT / "workbench_inspector_exploration.png"))
    v.tabs.setCurrentIndex(0)
    v.grab().save(str(OUTPUT / "workbench_inspector_model.png"))


def test_controls_are_debounced_and_the_vad_slider_moves_the_kept_region(qtbot, tmp_path):
    tail = (0.02 * np.sin(2 * np.pi * 200 * np.arange(8000) / 8000)).astype(np.float32)
    x = np.concatenate([vowel(1.5, seed=2), tail, np.zeros(2000, np.float32)])
    v = shown(qtbot, wav(tmp_path / "ID042_phonationA.wav", x))
    emitted = []
    v.controls.changed.connect(emitted.append)
    kept = v.exploration.voiced
    v.controls.vad.setValue(12)
    v.controls.vad.setValue(11)
    v.controls.vad.setValue(10)
    assert emitted == []  # nothing before the debounce interval
    qtbot.waitUntil(lambda: len(emitted) == 1, timeout=5 * DEBOUNCE_MS + 2000)
    qtbot.wait(2 * DEBOUNCE_MS)
    assert len(emitted) == 1 and emitted[0].vad_top_db == 10
    assert v.exploration.voiced.stop < kept.stop  # the quiet tail (-17 dB) is no longer kept
    wave = v.explore_pane.figure.axes[0]
    span = [p for p in wave.patches if p.get_label() == "kept (voice)"][0]
    assert span.get_x() + span.get_width() == pytest.approx(v.exploration.voiced.stop / 8000)


def test_a_bad_setting_says_one_sentence_and_keeps_the_last_image(qtbot, tmp_path):
    v = shown(qtbot, wav(tmp_path / "ID042_phonationA.wav", vowel(1.0)))
    drawn = v.exploration
    v.controls.f_min.setValue(3900)
    v.controls.f_max.setValue(1000)
    v.controls.flush()
    text = v.controls.problem.text()
    assert "band 3900-1000 Hz is empty" in text and text.endswith(".") and "\n" not in text
    assert v.exploration is drawn


def test_a_long_recording_is_recomputed_in_a_worker(qtbot, tmp_path):
    v = shown(qtbot, wav(tmp_path / "ID042_rhythmPA.wav", ddk(31.0)), task_id="rhythmPA")
    v.controls.hop.setCurrentText("256")
    v.controls.flush()
    assert v.explore_pane.message.text() == "computing the exploration view…"
    qtbot.waitUntil(lambda: v.exploration.params.hop_length == 256, timeout=60000)
    assert v.exploration.db.shape[1] == 1 + len(ddk(31.0)) // 256


def test_a_recording_the_model_refuses_is_still_explored(qtbot, tmp_path):
    noise = (0.1 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
    v = shown(qtbot, wav(tmp_path / "ID042_phonationA.wav", noise))
    assert v.model_arrays() is None and v.exploration is not None
    assert v.model_pane.message.text().startswith("The model sees nothing of this recording: ID042_phonationA.wav")


def test_play_kept_region_plays_only_the_kept_samples(qtbot, tmp_path):
    seen = tmp_path / "seen"
    player = Player(command=[sys.executable, "-c", STAND_IN, str(seen)])
    v = shown(qtbot, wav(tmp_path / "ID042_phonationA.wav", vowel(1.0)), player=player)
    with qtbot.waitSignal(player.finished, timeout=30000):
        v.play_kept_button.click()
    assert seen.read_text() == f"{v.exploration.voiced.length} 8000"
    with qtbot.waitSignal(player.finished, timeout=30000):
        v.play_button.click()
    assert seen.read_text() == "16000 8000"  # the whole file: 0.5 s lead + 1 s + 0.5 s


def test_the_export_dialog_sizes_in_inches_or_pixels(qtbot, tmp_path):
    dlg = figure_export.FigureExportDialog(tmp_path / "x.png", width_in=4.0, height_in=2.0, dpi=100)
    qtbot.addWidget(dlg)
    assert dlg.choice() == figure_export.FigureChoice(tmp_path / "x.png", 4.0, 2.0, 100)
    dlg.unit.setCurrentText("px")
    assert (dlg.width.value(), dlg.height.value()) == (400, 200)
    dlg.width.setValue(640)
    dlg.height.setValue(320)
    dlg.dpi.setValue(160)  # pixels stay pixels when the DPI changes
    dlg.format.setCurrentText("SVG")
    assert dlg.choice() == figure_export.FigureChoice(tmp_path / "x.svg", 4.0, 2.0, 160)
    dlg.unit.setCurrentText("in")
    assert (dlg.width.value(), dlg.height.value()) == (4.0, 2.0)


def test_any_view_exports_png_svg_and_pdf_at_the_chosen_size(qtbot, tmp_path, monkeypatch, messages):
    from PIL import Image

    v = shown(qtbot, wav(tmp_path / "ID042_phonationA.wav", vowel(1.0)))
    answers = []
    monkeypatch.setattr(figure_export.FigureExportDialog, "ask", classmethod(lambda cls, *a, **k: answers.pop(0)))
    for name, pane in (("model.png", v.model_pane), ("explore.svg", v.explore_pane), ("explore.pdf", v.explore_pane)):
        answers.append(figure_export.FigureChoice(tmp_path / name, 4.0, 2.0, 120))
        assert pane.export() == tmp_path / name
    with Image.open(tmp_path / "model.png") as im:
        assert im.size == (480, 240)
    root = ET.parse(tmp_path / "explore.svg").getroot()
    assert (root.get("width"), root.get("height")) == ("288pt", "144pt")
    assert (tmp_path / "explore.pdf").read_bytes().startswith(b"%PDF")
    assert b"/MediaBox [ 0 0 288 144 ]" in (tmp_path / "explore.pdf").read_bytes()
    answers.append(figure_export.FigureChoice(tmp_path / "no-such-folder" / "f.png", 4.0, 2.0, 120))
    assert v.explore_pane.export() is None and len(messages) == 1
    assert messages[0].startswith(str(tmp_path / "no-such-folder" / "f.png")) and "\n" not in messages[0]


@pytest.mark.parametrize("task_id", ["phonationA", "rhythmPA"])
def test_export_textgrid_writes_the_vad_segmentation(qtbot, tmp_path, monkeypatch, messages, task_id):
    from sand_gui.textgrid import read_textgrid

    x = vowel(1.0) if task_id == "phonationA" else ddk(2.0, rate=5.0)
    v = shown(qtbot, wav(tmp_path / f"ID042_{task_id}.wav", x), task_id=task_id)
    out = tmp_path / f"ID042_{task_id}.TextGrid"
    monkeypatch.setattr(TextGridDialog, "ask", classmethod(lambda cls, parent, suggestion: out))
    with qtbot.waitSignal(v.textgridWritten, timeout=60000) as sig:
        v.export_textgrid()
    assert sig.args == [out] and messages == []
    assert out.read_text(encoding="utf-8").startswith('File type = "ooTextFile"')
    grid = read_textgrid(out)
    speech = [iv for iv in grid.tiers[0].items if iv.text == "speech"]
    kept = v.exploration.voiced
    assert len(speech) == 1 and speech[0].xmin == pytest.approx(kept.start / 8000, abs=0.02)
    if task_id == "rhythmPA":  # Praat's syllable peaks of the /pa/ train, inside the kept region
        points = grid.tiers[1].items
        assert 7 <= len(points) <= 11 and all(speech[0].xmin <= p.time <= speech[0].xmax for p in points)
        assert v.note.text() == f"{out.name} written: the VAD tier and {len(points)} syllable point(s)."
    else:
        assert len(grid.tiers) == 1 and v.note.text() == f"{out.name} written: the VAD tier."


def test_compare_two_recordings_on_shared_axes_and_remove_one(qtbot, tmp_path):
    v = CompareView()
    qtbot.addWidget(v)
    v.resize(1100, 600)
    v.show()
    a = wav(tmp_path / "ID001_phonationA.wav", vowel(1.0, seed=1, level=0.05))
    b = wav(tmp_path / "ID002_phonationA.wav", vowel(2.5, seed=2, level=0.4))
    v.add_recording(a, **keywords(patient_id="ID001", label=1))
    v.add_recording(b, **keywords(patient_id="ID002", label=5))
    v.add_recording(b, **keywords(patient_id="ID002", label=5))  # twice: refused
    qtbot.waitUntil(lambda: len(v.entries) == 2, timeout=60000)
    assert v.list.count() == 2
    axes = [ax for ax in v.pane.figure.axes if ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in axes] == ["ID001 · phonationA\nclass 1", "ID002 · phonationA\nclass 5"]
    assert axes[0].get_xlim() == axes[1].get_xlim() == (0.0, 3.5)
    assert axes[0].get_ylim() == axes[1].get_ylim()
    assert axes[0].get_ylim() == pytest.approx((50.0, 4000.0))
    assert axes[0].collections[0].get_clim() == axes[1].collections[0].get_clim()
    OUTPUT.mkdir(exist_ok=True)
    v.grab().save(str(OUTPUT / "workbench_compare.png"))
    v.list.item(0).setSelected(True)
    v.remove_button.click()
    assert [e.title for e in v.entries] == ["ID002 · phonationA\nclass 5"] and v.list.count() == 1
    assert v.list.item(0).text() == "ID002 · phonationA · class 5"
    assert len([ax for ax in v.pane.figure.axes if ax.get_title(loc="left")]) == 1


def test_an_unreadable_recording_is_not_compared_and_says_why(qtbot, tmp_path):
    v = CompareView()
    qtbot.addWidget(v)
    bad = tmp_path / "ID007_phonationA.wav"
    bad.write_bytes(b"RIFF\x00\x00 not audio")
    v.add_recording(bad, **keywords(patient_id="ID007"))
    qtbot.waitUntil(lambda: v.note.text().startswith("ID007_phonationA.wav: "), timeout=60000)
    assert v.entries == [] and v.list.count() == 0 and "\n" not in v.note.text() and v.note.text().endswith(".")
    v.add_recording(wav(tmp_path / "ID008_phonationA.wav", vowel(1.0)), **keywords(patient_id="ID008"))
    qtbot.waitUntil(lambda: len(v.drawn) == 1, timeout=60000)  # the failed one is not in the way
    assert v.note.text() == "Add one more recording to compare."


def test_a_long_comparison_is_recomputed_in_a_worker(qtbot, tmp_path):
    v = CompareView()
    qtbot.addWidget(v)
    for i in (1, 2):
        v.add_recording(wav(tmp_path / f"ID00{i}_rhythmPA.wav", ddk(31.0, seed=i)), **keywords(task_id="rhythmPA"))
    qtbot.waitUntil(lambda: len(v.drawn) == 2, timeout=60000)  # 2 x 32 s: more than SYNC_SECONDS together
    v.controls.hop.setCurrentText("256")
    v.controls.flush()
    assert v.pane.message.text() == "computing the comparison…"
    qtbot.waitUntil(lambda: v.drawn[0][1].params.hop_length == 256, timeout=60000)
    assert [ex.params.hop_length for _, ex in v.drawn] == [256, 256]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from sand_gui.dataset_index import DatasetIndex
    from training.synth.corpus import generate_corpus

    out = tmp_path_factory.mktemp("corpus")
    generate_corpus(out, patients=5, seed=11, class_priors="uniform")
    return DatasetIndex.open(out)


@pytest.mark.slow  # generating the corpus takes a few seconds
def test_class_mean_view_computes_in_a_worker_and_shares_one_scale(qtbot, corpus):
    v = ClassMeanView()
    qtbot.addWidget(v)
    v.resize(1200, 420)
    v.show()
    assert not v.compute_button.isEnabled()
    v.set_dataset(corpus, TEST_SPEC)
    v.show_recording(Path("x.wav"), task_id="rhythmKA", patient_id="ID000", label=5, spec=TEST_SPEC)
    assert v.task_id() == "rhythmKA"
    v.compute_button.click()
    assert v.cancel_button.isEnabled() and not v.compute_button.isEnabled()
    qtbot.waitUntil(lambda: v.result is not None and v.worker is None, timeout=120000)
    assert v.result.task_id == "rhythmKA" and v.result.counts == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
    meshes = [c for ax in v.pane.figure.axes if ax.get_title() for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 5 and len({m.get_clim() for m in meshes}) == 1
    assert v.status.text() == "rhythmKA: 5 recording(s) averaged."
    OUTPUT.mkdir(exist_ok=True)
    v.grab().save(str(OUTPUT / "workbench_class_mean.png"))
    v.task.setCurrentIndex(v.task.findData("phonationA"))
    v.compute_button.click()
    v.cancel()
    qtbot.waitUntil(lambda: v.worker is None, timeout=60000)
    assert v.result.task_id == "rhythmKA" and v.compute_button.isEnabled()
    assert get_task(v.task_id()).family == "phonation"
