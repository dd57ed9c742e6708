"""The workbench's "Why" view (``ui.workbench.explain_view.ExplainView``) on real recordings and
real bundles: occlusion overlay and table, Grad-CAM toggle, "Play what decided" through a real
``QProcess`` running a stand-in player, work only in workers, errors as one sentence. Grabs are
saved to tests/output/workbench_why_*.png."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sandtest import TEST_SPEC, vowel

from sand_gui.ui.playback import Player
from sand_gui.ui.workbench.explain_view import OVERLAYS, ExplainView

OUTPUT = Path(__file__).resolve().parents[1] / "output"
# reads the WAV it is given as a player would and writes what it got beside it
STAND_IN = "import sys, soundfile as sf; i = sf.info(sys.argv[-1]); open(sys.argv[1], 'w').write(f'{i.format} {i.subtype} {i.frames}')"


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory):
    from sandtest import make_tiny_bundle

    from sand_gui.model import Classifier

    return Classifier.from_file(make_tiny_bundle(tmp_path_factory.mktemp("b") / "tiny.safetensors"), device="cpu")


def make_view(qtbot, tmp_path) -> ExplainView:
    view = ExplainView(player=Player(command=[sys.executable, "-c", STAND_IN, str(tmp_path / "played")]))
    qtbot.addWidget(view)
    view.resize(1100, 600)
    return view


def wait_explained(qtbot, view) -> None:
    qtbot.waitUntil(lambda: view.data is not None or "cannot" in view.status.text(), timeout=120000)


def test_explains_a_recording_and_plays_what_decided(qtbot, tmp_path, tiny_classifier):
    wav = tmp_path / "ID042_phonationA.wav"
    sf.write(wav, vowel(2.0, f0=150.0), 8000, subtype="PCM_16")
    view = make_view(qtbot, tmp_path)
    view.show()
    qtbot.waitExposed(view)
    keywords = {"task_id": "phonationA", "patient_id": "ID042", "label": 2, "spec": TEST_SPEC}
    view.show_recording(wav, **keywords, classifier=None)
    assert "loading" in view.pane.message.text() and view._worker is None
    view.show_recording(wav, **keywords, classifier=tiny_classifier)
    assert view._worker is not None  # computed in a worker, never here
    wait_explained(qtbot, view)
    ex = view.data.explanation
    names = [view.table.item(i, 0).text() for i in range(view.table.rowCount())]
    assert names == [s.region.name for s in ex.scores] and "onset" in names
    assert {"F0 band", "formant region"} <= {n.split(" (")[0] for n in names}
    assert "true label: class 2" in view.header.text() and f"class {ex.predicted_class}" in view.header.text()
    assert view.pane.drawn
    for i in range(len(OVERLAYS)):  # each overlay draws
        view.overlay.setCurrentIndex(i)
        assert len(view.pane.figure.axes) >= 2
    view.overlay.setCurrentIndex(0)
    view.check_button.click()
    qtbot.waitUntil(lambda: view.aucs is not None, timeout=120000)
    assert set(view.aucs) == {"occlusion", "cam_last", "cam_fine", "random"}
    assert all(0 <= a <= 1 for a in view.aucs.values()) and "Deletion-curve area" in view.status.text()
    view.table.selectRow(0)
    assert view.selected_score() == 0
    if ex.top(1):
        with qtbot.waitSignal(view.player.finished, timeout=30000):
            view.play_button.click()
        played = (tmp_path / "played").read_text()
        assert played.startswith("WAV PCM_16") and int(played.split()[-1]) == sf.info(wav).frames
        assert view.last_wav.exists() and view.status.text().startswith("Playing only")
    else:
        assert not view.play_button.isEnabled()


def test_nothing_is_computed_while_hidden_and_a_bad_file_is_one_sentence(qtbot, tmp_path, tiny_classifier):
    bad = tmp_path / "ID7_rhythmKA.wav"
    sf.write(bad, np.zeros(8000, dtype=np.float32), 8000, subtype="PCM_16")
    view = make_view(qtbot, tmp_path)
    view.show_recording(
        bad, task_id="rhythmKA", patient_id="ID7", label=None, spec=TEST_SPEC, classifier=tiny_classifier
    )
    assert view.pending and view._worker is None  # hidden: waits
    view.show()
    qtbot.waitUntil(lambda: view._worker is not None and view._worker.done, timeout=120000)
    qtbot.waitUntil(lambda: "ID7_rhythmKA.wav" in view.status.text(), timeout=10000)
    text = view.status.text()
    assert "\n" not in text and text.endswith(".") and view.data is None and not view.play_button.isEnabled()


def test_a_newer_recording_wins(qtbot, tmp_path, tiny_classifier):
    first, second = tmp_path / "ID1_phonationA.wav", tmp_path / "ID2_phonationE.wav"
    sf.write(first, vowel(2.0, f0=120.0), 8000, subtype="PCM_16")
    sf.write(second, vowel(1.5, f0=200.0), 8000, subtype="PCM_16")
    view = make_view(qtbot, tmp_path)
    view.show()
    common = {"label": None, "spec": TEST_SPEC, "classifier": tiny_classifier}
    view.show_recording(first, task_id="phonationA", patient_id="ID1", **common)
    view.show_recording(second, task_id="phonationE", patient_id="ID2", **common)
    wait_explained(qtbot, view)
    assert view.data.path == second and "ID2" in view.header.text()


@pytest.mark.slow
@pytest.mark.parametrize("task_id", ["phonationA", "rhythmPA"])
def test_grabs_with_the_shipped_model(qtbot, tmp_path, task_id):
    from sand_gui.model import Classifier
    from sand_gui.resources import default_bundle_path
    from training.synth.corpus import generate_corpus

    generate_corpus(tmp_path / "corpus", patients=1, seed=11)
    wav = next((tmp_path / "corpus").rglob(f"*_{task_id}.wav"))
    clf = Classifier.from_file(default_bundle_path(), device="cpu")
    view = make_view(qtbot, tmp_path)
    view.resize(1300, 650)
    view.show()
    view.show_recording(wav, task_id=task_id, patient_id=wav.stem.split("_")[0], label=3, spec=clf.spec, classifier=clf)
    wait_explained(qtbot, view)
    assert view.table.rowCount() == len(view.data.explanation.scores) > 0
    OUTPUT.mkdir(exist_ok=True)
    view.table.selectRow(0)
    assert view.grab().save(str(OUTPUT / f"workbench_why_{task_id}_occlusion.png"))
    view.overlay.setCurrentIndex(1)
    assert view.grab().save(str(OUTPUT / f"workbench_why_{task_id}_gradcam.png"))
