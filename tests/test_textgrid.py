"""Praat TextGrids (sand_gui.textgrid): what we write opens in Praat (parselmouth) with its
tiers and times; what Praat writes (long, short, UTF-16) reads back; garbage is one sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandtest import TEST_SPEC, ddk, vowel

from sand_gui.audio import load_recording
from sand_gui.errors import AudioError, SandError
from sand_gui.features import trim
from sand_gui.textgrid import (
    SPEECH,
    SYLLABLE_TIER,
    VAD_TIER,
    TextGridError,
    parse_textgrid,
    read_textgrid,
    textgrid_text,
    vad_grid,
    vad_textgrid,
)

parselmouth = pytest.importorskip("parselmouth", reason="install the test extra (praat-parselmouth)")
call = parselmouth.praat.call


@pytest.fixture
def wav(tmp_path) -> Path:
    path = tmp_path / "ID001_rhythmPA.wav"
    sf.write(path, ddk(2.0, lead=0.5), 8000, subtype="PCM_16")  # 0.5 s silence, 2 s of /pa/, 0.5 s silence
    return path


def test_written_textgrid_opens_in_praat_with_its_tiers_and_times(wav, tmp_path):
    out = tmp_path / "ID001_rhythmPA.TextGrid"
    grid = vad_textgrid(wav, TEST_SPEC, out, syllables=[0.1, 0.3, 0.5, 99.0])
    tg = parselmouth.read(str(out))
    assert isinstance(tg, parselmouth.TextGrid)
    assert call(tg, "Get number of tiers") == 2
    assert call(tg, "Get tier name", 1) == VAD_TIER and call(tg, "Get tier name", 2) == SYLLABLE_TIER
    assert call(tg, "Get total duration") == pytest.approx(3.0, abs=1e-3)
    vad = grid.tier(VAD_TIER).items
    assert call(tg, "Get number of intervals", 1) == len(vad) == 3
    for i, iv in enumerate(vad, start=1):
        assert call(tg, "Get start time of interval", 1, i) == pytest.approx(iv.xmin, abs=1e-9)
        assert call(tg, "Get end time of interval", 1, i) == pytest.approx(iv.xmax, abs=1e-9)
        assert call(tg, "Get label of interval", 1, i) == iv.text
    rec = load_recording(wav, sample_rate=TEST_SPEC.sample_rate, bandlimit_hz=TEST_SPEC.bandlimit_hz)
    kept = trim(rec.samples, spec=TEST_SPEC)  # the region the model sees
    assert vad[1].text == SPEECH and (vad[1].xmin, vad[1].xmax) == (kept.start / 8000, kept.stop / 8000)
    assert 0.4 < vad[1].xmin < 0.6 and 2.0 < vad[1].xmax < 2.6 and vad[0].text == vad[2].text == ""
    # syllable times are from the start of the kept region (as the DDK measures give them); 99 s lies outside
    assert call(tg, "Get number of points", 2) == 3
    for j, t in enumerate([0.1, 0.3, 0.5], start=1):
        assert call(tg, "Get time of point", 2, j) == pytest.approx(vad[1].xmin + t, abs=1e-9)
    assert read_textgrid(out) == grid
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([wav.name, out.name])  # no temporary left


def test_syllables_in_file_time_and_no_syllable_tier(tmp_path):
    path = tmp_path / "ID001_phonationA.wav"
    sf.write(path, vowel(1.5, lead=0.25), 8000, subtype="PCM_16")
    grid = vad_textgrid(path, TEST_SPEC, tmp_path / "a.TextGrid", syllables=[0.3], syllable_origin="file")
    assert grid.tier(SYLLABLE_TIER).items[0].time == pytest.approx(0.3)
    plain = vad_textgrid(path, TEST_SPEC, tmp_path / "b.TextGrid")
    assert [t.name for t in plain.tiers] == [VAD_TIER]
    assert call(parselmouth.read(str(tmp_path / "b.TextGrid")), "Get number of tiers") == 1
    with pytest.raises(TextGridError, match="syllable origin 'middle'"):
        vad_textgrid(path, TEST_SPEC, tmp_path / "c.TextGrid", syllables=[0.3], syllable_origin="middle")


def test_what_praat_writes_reads_back(tmp_path):
    tg = call("Create TextGrid", 0.0, 2.0, "words sounds syllables", "syllables")
    call(tg, "Insert boundary", 1, 0.75)
    call(tg, "Set interval text", 1, 2, 'say "pa" – päpä')  # a quote and non-ASCII: Praat writes UTF-16
    call(tg, "Insert point", 3, 1.25, "σ")
    for command, name in (("Save as text file", "long"), ("Save as short text file", "short")):
        path = tmp_path / f"{name}.TextGrid"
        call(tg, command, str(path))
        grid = read_textgrid(path)
        assert [(t.kind, t.name) for t in grid.tiers] == [
            ("IntervalTier", "words"),
            ("IntervalTier", "sounds"),
            ("TextTier", "syllables"),
        ]
        words = grid.tiers[0]
        assert [(iv.xmin, iv.xmax, iv.text) for iv in words.items] == [(0, 0.75, ""), (0.75, 2.0, 'say "pa" – päpä')]
        assert grid.tiers[2].kind == "TextTier" and grid.tiers[2].items[0].time == 1.25
        assert grid.tiers[2].items[0].mark == "σ"


def test_quotes_and_unicode_survive_our_writer_and_praat(tmp_path):
    grid = vad_grid(1.0, 0.2, 0.8)
    grid.tiers[0].items[1].text = 'he said "pa"\tété'
    path = tmp_path / "q.TextGrid"
    path.write_text(textgrid_text(grid), encoding="utf-8")
    assert call(parselmouth.read(str(path)), "Get label of interval", 1, 2) == 'he said "pa"\tété'
    assert read_textgrid(path) == grid


def test_unusable_audio_is_one_sentence_and_writes_nothing(tmp_path):
    silent = tmp_path / "ID001_phonationA.wav"
    sf.write(silent, np.zeros(8000), 8000, subtype="PCM_16")
    with pytest.raises(AudioError) as err:
        vad_textgrid(silent, TEST_SPEC, tmp_path / "x.TextGrid")
    assert "\n" not in str(err.value) and "ID001_phonationA.wav" in str(err.value)
    assert [p.name for p in tmp_path.iterdir()] == [silent.name]


def test_bad_files_are_one_sentence(tmp_path):
    cases = {
        "missing.TextGrid": None,
        "empty.TextGrid": b"",
        "latin1.TextGrid": 'File type = "ooTextFile"\nObject class = "TextGrid"\n"\xe9"'.encode("latin-1"),
        "other.TextGrid": b'File type = "ooTextFile"\nObject class = "Sound"\n',
        "cut.TextGrid": textgrid_text(vad_grid(1.0, 0.2, 0.8))[:200].encode(),
        "backwards.TextGrid": textgrid_text(vad_grid(1.0, 0.2, 0.8)).replace("xmax = 1 ", "xmax = -1 ", 1).encode(),
        "count.TextGrid": textgrid_text(vad_grid(1.0, 0.2, 0.8)).replace("size = 3", "size = 1e12").encode(),
    }
    for name, data in cases.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        with pytest.raises(TextGridError) as err:
            read_textgrid(path)
        text = str(err.value)
        assert text.startswith(name) and "\n" not in text and text.endswith("."), text


VALID = textgrid_text(vad_grid(2.0, 0.5, 1.5, syllables=[0.6, 0.9]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_fuzz_garbage_text_raises_only_sand_errors(text):
    try:
        parse_textgrid(text)
    except SandError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(VALID) - 1), st.integers(0, 40), st.text(max_size=12))
def test_fuzz_damaged_textgrid_raises_only_sand_errors(at, cut, insert):
    damaged = VALID[:at] + insert + VALID[at + cut :]
    try:
        grid = parse_textgrid(damaged)
    except SandError as exc:
        assert "\n" not in str(exc)
    else:
        assert all(iv.xmin <= iv.xmax for t in grid.tiers for iv in t.items if hasattr(iv, "xmax"))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_bytes_on_disk(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "f.TextGrid"
    path.write_bytes(data)
    try:
        read_textgrid(path)
    except SandError as exc:
        assert "\n" not in str(exc)
