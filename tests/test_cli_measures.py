"""``sand-gui analyze`` with the Praat measures: ``--json`` carries them with their settings, the
table prints the key ones with their flags, ``--no-measures`` skips them, and without
parselmouth one line on stderr says what to install while the analysis goes on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

from sand_gui.cli import main


def strict(text: str):
    def refuse(name):
        raise AssertionError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_json_carries_the_measures_and_their_settings(patient_dir, tiny_bundle, tmp_path, capsys):
    base = tmp_path / "out" / "ID042"
    args = ["analyze", str(patient_dir), "--model", str(tiny_bundle), "--json", "--sex", "M", "--report", str(base)]
    assert main(args) == 0
    out = capsys.readouterr()
    d = strict(out.out)
    assert out.err == ""
    assert d["final_class"] is not None and len(d["tasks"]) == 8  # the analysis, as before
    m = d["measures"]
    assert m["status"] == "measured" and m["sex"] == "M" and d["fusion"] is None
    assert (m["settings"]["pitch_floor"], m["settings"]["pitch_ceiling"]) == (75.0, 300.0)  # male range
    assert m["settings"]["praat_commands"]["cpps"].startswith("Sound: To PowerCepstrogram")
    assert [t["task"] for t in m["tasks"]] == [t["task"] for t in d["tasks"]]
    rate = next(x for t in m["tasks"] if t["task"] == "rhythmTA" for x in t["measures"] if x["key"] == "ddk_rate")
    assert abs(rate["value"] - 5.0) < 0.25 and rate["unit"] == "syll/s"
    report = strict(base.with_suffix(".json").read_text())
    assert report["measures"]["tasks"] == m["tasks"]  # the report carries the same measures


def test_table_prints_key_measures_with_flags(patient_dir, tiny_bundle, tmp_path, capsys):
    folder = tmp_path / "two"
    folder.mkdir()
    for t in ("phonationA", "rhythmPA"):
        shutil.copy(patient_dir / f"ID042_{t}.wav", folder / f"ID042_{t}.wav")
    assert main(["analyze", str(folder), "--model", str(tiny_bundle)]) == 0
    out = capsys.readouterr().out
    table = out.split("Measures (Praat ", 1)[1].splitlines()
    assert "sex U" in table[0] and "flags vs healthy ranges" in table[0]
    a = next(x for x in table if x.strip().startswith("phonationA"))
    assert "Jitter (local) " in a and "[ok]" in a and "CPPS" in a and "nan" not in a.lower()
    pa = next(x for x in table if x.strip().startswith("rhythmPA"))
    assert "DDK rate 5." in pa and "syll/s" in pa
    area = next(x for x in table if "Vowel space area" in x)
    assert "not measurable: F1/F2 not measurable for phonationI, phonationU." in area  # only /a/ was given
    assert table[-1].strip().startswith("Settings: pitch 75-500 Hz")


def test_no_measures_skips_them(patient_dir, tiny_bundle, capsys):
    one = str(patient_dir / "ID042_phonationA.wav")
    assert main(["analyze", one, "--model", str(tiny_bundle), "--json", "--no-measures"]) == 0
    d = strict(capsys.readouterr().out)
    assert d["measures"] is None and d["final_class"] is not None
    assert main(["analyze", one, "--model", str(tiny_bundle), "--no-measures"]) == 0
    assert "Measures" not in capsys.readouterr().out


def test_without_parselmouth_one_line_says_what_to_install(patient_dir, tiny_bundle, tmp_path):
    code = textwrap.dedent(f"""
        import sys
        sys.modules["parselmouth"] = None  # as if praat-parselmouth were not installed
        from sand_gui.cli import main
        sys.exit(main(["analyze", {str(patient_dir / "ID042_rhythmKA.wav")!r}, "--model", {str(tiny_bundle)!r},
                       "--json"]))
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=dict(os.environ)
    )
    assert out.returncode == 0, out.stderr
    sentence = (
        "Praat measures need praat-parselmouth, which is not installed; install it with "
        "pip install 'sand-gui[measures]'."
    )
    assert out.stderr.splitlines() == [f"sand-gui: measures skipped: {sentence}"]
    d = strict(out.stdout)
    assert d["measures"] == {"status": "unavailable", "reason": sentence, "code": "MeasuresUnavailable"}
    assert d["tasks"][0]["class"] is not None  # the analysis went on
