"""Application benchmarks (figures for the README, not a timed test):
``python benchmarks/bench_gui.py [--runs 5] [--platform offscreen]``.

(a) launch -> first painted window: a fresh process per run, for a bare PySide6 window and
    for the SAND main window (on the bundled model, or a tiny test bundle when none is
    shipped), median of ``--runs``; goal: the SAND window within 2x of the bare one. Each
    child prints the wall-clock time of the event-loop turn right after its first paint.
(b) launch -> "Model ready" (torch + timm imported and the bundle loaded in the background).
(c) "Analyse" -> result on screen for eight 5-second recordings on the CPU, through the
    window (worker thread, signals, result panel), against ``pipeline.analyze`` alone.
(d) the workbench: "open dataset" -> grid painted for 300 patients x 8 tasks (``--workbench-only``).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD_COMMON = r"""
import os, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
def on_first_paint(widget, then):
    class F(QObject):
        done = False
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint and not self.done:
                self.done = True
                QTimer.singleShot(0, then)
            return False
    f = F(widget)
    widget.installEventFilter(f)
    return f
def report_and_exit():
    print(f"PAINTED {time.time():.6f}", flush=True)
    os._exit(0)
"""

BARE_CHILD = (
    CHILD_COMMON
    + r"""
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication(sys.argv[:1])
w = QMainWindow()
w.setCentralWidget(QLabel("hello"))
w.resize(1280, 860)
keep = on_first_paint(w, report_and_exit)
w.show()
app.exec()
"""
)

SAND_CHILD = (
    CHILD_COMMON
    + r"""
from PySide6.QtCore import QSettings
from sand_gui.ui.app import create_app
app = create_app(sys.argv[:1])
from sand_gui.ui.main_window import MainWindow
from sand_gui.ui.settings import Settings
settings = Settings(QSettings(sys.argv[1], QSettings.Format.IniFormat))
w = MainWindow(settings)
mode = sys.argv[2]
if mode == "paint":
    keep = on_first_paint(w, report_and_exit)
else:
    def ready():
        print(f"READY {time.time():.6f} {w.model_status.text()}", flush=True)
        os._exit(0)
    w.modelChanged.connect(ready)
w.show()
app.exec()
"""
)


def child_seconds(code: str, args: list[str], *, env: dict, marker: str) -> tuple[float, str]:
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    for line in out.stdout.splitlines():
        if line.startswith(marker):
            parts = line.split(" ", 2)
            return float(parts[1]) - t0, (parts[2] if len(parts) > 2 else "")
    raise RuntimeError(f"child failed ({out.returncode}): {out.stdout[-500:]} {out.stderr[-2000:]}")


def bundle_path(tmp: Path) -> tuple[Path, str]:
    sys.path.insert(0, str(ROOT))
    from sand_gui.ui.model_controller import default_bundle_path

    shipped = default_bundle_path()
    if shipped is not None:
        return shipped, "bundled model"
    sys.path.insert(0, str(ROOT / "tests"))
    from sandtest import make_tiny_bundle

    return make_tiny_bundle(tmp / "tiny.safetensors"), "tiny test bundle (no bundled model yet)"


def bench_launch(runs: int, env: dict, ini: Path) -> dict:
    bare = [child_seconds(BARE_CHILD, [], env=env, marker="PAINTED")[0] for _ in range(runs)]
    sand = [child_seconds(SAND_CHILD, [str(ini), "paint"], env=env, marker="PAINTED")[0] for _ in range(runs)]
    ready = [child_seconds(SAND_CHILD, [str(ini), "ready"], env=env, marker="READY") for _ in range(max(1, runs // 2))]
    return {
        "bare": statistics.median(bare),
        "sand": statistics.median(sand),
        "ready": statistics.median(r[0] for r in ready),
        "ready_text": ready[-1][1],
        "bare_all": bare,
        "sand_all": sand,
    }


def bench_analysis(bundle: Path, tmp: Path, runs: int) -> dict:
    import soundfile as sf
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    sys.path.insert(0, str(ROOT / "tests"))
    from sandtest import ddk, vowel

    from sand_gui.bundle import read_card
    from sand_gui.pipeline import analyze
    from sand_gui.tasks import TASK_IDS, get_task
    from sand_gui.ui import main_window, messages, session_dialog
    from sand_gui.ui.settings import Settings

    sr = read_card(bundle).spec.sample_rate
    folder = tmp / "B001"
    folder.mkdir()
    files = []
    for i, t in enumerate(TASK_IDS):  # 5 s of voice each (plus 0.3 s lead and tail)
        x = (
            vowel(5.0, sr=sr, seed=i, lead=0.3)
            if get_task(t).family == "phonation"
            else ddk(5.0, sr=sr, seed=i, lead=0.3)
        )
        files.append(folder / f"B001_{t}.wav")
        sf.write(files[-1], x, sr, subtype="PCM_16")

    app = QApplication.instance() or QApplication([])
    session_dialog.NewSessionDialog.ask = classmethod(
        lambda cls, parent, patient_id="", **kw: session_dialog.SessionInfo("B001")
    )
    messages.MessageBox.show = classmethod(lambda cls, parent, text, **kw: print("message:", text))
    settings = Settings(QSettings(str(tmp / "analysis.ini"), QSettings.Format.IniFormat))
    settings.data_dir, settings.device, settings.bundle_path = tmp / "data", "cpu", bundle
    w = main_window.MainWindow(settings)
    w.show()

    def wait(cond, timeout=300.0):
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise TimeoutError
            loop = QEventLoop()
            QTimer.singleShot(10, loop.quit)
            loop.exec()

    wait(lambda: w.classifier is not None)
    w.sessions.load_files(files)
    wait(lambda: all(w.workspace.task(t).usable for t in TASK_IDS))
    gui, core = [], []
    for _ in range(runs + 1):  # the first run warms up
        shown = []
        w.resultShown.connect(shown.append)
        t0 = time.perf_counter()
        w.analyse()
        wait(lambda shown=shown: bool(shown))
        app.processEvents()  # the result panel laid out and painted
        gui.append(time.perf_counter() - t0)
        w.resultShown.disconnect()
        t0 = time.perf_counter()
        analyze({t: f for t, f in zip(TASK_IDS, files)}, w.classifier)
        core.append(time.perf_counter() - t0)
    result = w.workspace.analysis.result
    w.close()
    return {
        "gui": statistics.median(gui[1:]),
        "core": statistics.median(core[1:]),
        "device": result.device,
        "summary": result.verdict.summary if result.verdict else result.quality_message,
        "model": result.model["name"],
        "arch": result.model["architecture"],
    }


def bench_workbench_grid(tmp: Path, runs: int, *, patients: int = 300) -> dict:
    """(d) workbench: "open dataset" -> the patients x tasks grid painted, for ``patients`` patients x 8
    tasks in the SAND layout (labels.csv + training/<task>/<ID>_<task>.wav, 5 s WAVs at 8 kHz: one
    patient's files copied, since opening reads headers only). The first run is reported apart."""
    import shutil

    import soundfile as sf
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    sys.path.insert(0, str(ROOT / "tests"))
    from sandtest import ddk, vowel

    from sand_gui.tasks import TASK_IDS, get_task
    from sand_gui.ui.workbench.window import WorkbenchWindow

    root = tmp / "corpus300"
    sources = {}
    for i, t in enumerate(TASK_IDS):
        x = vowel(5.0, seed=i, lead=0.3) if get_task(t).family == "phonation" else ddk(5.0, seed=i, lead=0.3)
        (root / "training" / t).mkdir(parents=True)
        sources[t] = tmp / f"src_{t}.wav"
        sf.write(sources[t], x, 8000, subtype="PCM_16")
    lines = ["ID,Age,Sex,Class,Split"]
    for n in range(patients):
        pid = f"ID{n:03d}"
        lines.append(f"{pid},{40 + n % 40},{'MF'[n % 2]},{1 + n % 5},{'train' if n % 5 else 'validation'}")
        for t in TASK_IDS:
            shutil.copyfile(sources[t], root / "training" / t / f"{pid}_{t}.wav")
    (root / "labels.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    app = QApplication.instance() or QApplication([])
    w = WorkbenchWindow(load_model=False, cache_dir=tmp / "cache")
    w.resize(1366, 768)
    w.show()
    app.processEvents()
    from sand_gui.ui.importer import Importer

    Importer.instance().wait(timeout=300)  # the start-up imports (torch, matplotlib) are over, as when a user opens one

    class Painted(QObject):  # quits the loop once the grid of the new dataset has been painted
        loop = None

        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint and w.index is not None and self.loop is not None:
                QTimer.singleShot(0, self.loop.quit)
                self.loop = None
            return False

    spy = Painted(w)
    w.grid.view.viewport().installEventFilter(spy)
    times = []
    for _ in range(runs + 1):  # the GUI thread waits in Qt's loop (no Python polling that would hold the GIL)
        w.index, spy.loop = None, QEventLoop()
        loop = spy.loop
        QTimer.singleShot(120000, loop.quit)
        t0 = time.perf_counter()
        w.open_dataset(root)
        loop.exec()
        times.append(time.perf_counter() - t0)
    shown = w.grid.count.text()
    w.close()
    return {"first": times[0], "median": statistics.median(times[1:]), "shown": shown}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    p.add_argument("--workbench-only", action="store_true", help="only (d): the workbench's grid-opening figure")
    args = p.parse_args()
    os.environ["QT_QPA_PLATFORM"] = args.platform
    env = dict(os.environ, QT_QPA_PLATFORM=args.platform, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        g = bench_workbench_grid(tmp, args.runs)
        print(
            f"workbench: open dataset -> grid painted, 300 patients x 8 tasks: {1000 * g['median']:.0f} ms "
            f"(median of {args.runs}; first {1000 * g['first']:.0f} ms); {g['shown']}"
        )
        if args.workbench_only:
            return 0
        bundle, which = bundle_path(tmp)
        ini = tmp / "launch.ini"
        ini.write_text(f"[General]\nbundle_path={bundle}\ndevice=cpu\ndata_dir={tmp / 'data'}\n")
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
            f"Qt platform {args.platform}; model: {which}"
        )
        launch = bench_launch(args.runs, env, ini)
        print(f"launch -> first paint, bare PySide6 window : {1000 * launch['bare']:7.0f} ms (median of {args.runs})")
        print(
            f"launch -> first paint, SAND main window    : {1000 * launch['sand']:7.0f} ms "
            f"({launch['sand'] / launch['bare']:.2f}x the bare window; goal <= 2x)"
        )
        print(
            f"launch -> model ready (background load)    : {1000 * launch['ready']:7.0f} ms  [{launch['ready_text']}]"
        )
        a = bench_analysis(bundle, tmp, max(1, args.runs // 2 + 1))
        print(
            f"Analyse -> result shown, 8 x 5 s, {a['device']}, {a['model']} ({a['arch']}): "
            f"{1000 * a['gui']:.0f} ms (pipeline.analyze alone: {1000 * a['core']:.0f} ms); {a['summary']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
