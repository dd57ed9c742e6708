import numpy as np
import pytest
import soundfile as sf
from sandtest import vowel

from sand_gui.audio import MAX_SECONDS, load_recording
from sand_gui.quality import Code, Note, codes


@pytest.mark.parametrize(
    "fmt, subtype",
    [
        ("WAV", "PCM_16"),
        ("WAV", "PCM_24"),
        ("WAV", "PCM_32"),
        ("WAV", "FLOAT"),
        ("WAV", "PCM_U8"),
        ("FLAC", "PCM_16"),
        ("OGG", "VORBIS"),
        ("MP3", "MPEG_LAYER_III"),
    ],
)
def test_every_format_loads_to_mono_float32_at_the_target_rate(tmp_path, fmt, subtype):
    x = vowel(1.0, sr=16000, lead=0.1)
    path = tmp_path / f"ID1_phonationA.{fmt.lower()}"
    sf.write(path, x, 16000, format=fmt, subtype=subtype)
    rec = load_recording(path, sample_rate=8000)
    assert rec.samples.dtype == np.float32 and rec.samples.ndim == 1
    assert rec.sample_rate == 8000 and rec.source_rate == 16000
    assert abs(rec.seconds - len(x) / 16000) < 0.06  # MP3/OGG add encoder padding


def test_resampling_keeps_the_tone_and_removes_what_is_above_nyquist(tmp_path):
    sr = 48000
    t = np.arange(sr) / sr
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 6000 * t)
    sf.write(tmp_path / "a.wav", x, sr, subtype="FLOAT")
    rec = load_recording(tmp_path / "a.wav", sample_rate=8000)
    spec = np.abs(np.fft.rfft(rec.samples * np.hanning(len(rec.samples))))
    freqs = np.fft.rfftfreq(len(rec.samples), 1 / 8000)
    assert abs(freqs[spec.argmax()] - 440) < 2
    # 6 kHz must not fold back to 2 kHz
    near_2k = spec[(freqs > 1950) & (freqs < 2050)].max()
    assert near_2k < 1e-3 * spec.max()


def test_bandlimit_removes_content_above_the_training_band(tmp_path):
    sr = 22050
    t = np.arange(sr) / sr
    x = 0.3 * np.sin(2 * np.pi * 300 * t) + 0.3 * np.sin(2 * np.pi * 5000 * t)
    sf.write(tmp_path / "a.wav", x, sr, subtype="FLOAT")
    rec = load_recording(tmp_path / "a.wav", sample_rate=22050, bandlimit_hz=4000)
    spec = np.abs(np.fft.rfft(rec.samples * np.hanning(len(rec.samples))))
    freqs = np.fft.rfftfreq(len(rec.samples), 1 / sr)
    assert spec[(freqs > 4900) & (freqs < 5100)].max() < 1e-3 * spec.max()
    assert len(rec.samples) == len(x)


def test_multichannel_is_mixed_down(tmp_path):
    x = vowel(1.0, lead=0.1)
    sf.write(tmp_path / "st.wav", np.stack([x, 0.5 * x], axis=1), 8000)
    rec = load_recording(tmp_path / "st.wav", sample_rate=8000)
    assert rec.source_channels == 2
    np.testing.assert_allclose(rec.samples, 0.75 * x, atol=1e-4)


def test_warnings_for_clipping_dc_and_low_level_are_notes_with_codes(tmp_path):
    x = vowel(1.0, lead=0.1, level=1.0)
    sf.write(tmp_path / "clip.wav", np.clip(x * 3, -1, 1), 8000, subtype="FLOAT")
    rec = load_recording(tmp_path / "clip.wav", sample_rate=8000)
    assert codes(rec.warnings) == [Code.CLIPPING] and rec.warnings[0].startswith("clipping: ")
    sf.write(tmp_path / "dc.wav", x * 0.3 + 0.2, 8000, subtype="FLOAT")
    rec = load_recording(tmp_path / "dc.wav", sample_rate=8000)
    assert rec.warnings == ["DC offset of +0.200 removed"] and codes(rec.warnings) == [Code.DC_REMOVED]
    assert abs(rec.samples.mean()) < 1e-3
    sf.write(tmp_path / "low.wav", x * 0.005, 8000, subtype="FLOAT")
    rec = load_recording(tmp_path / "low.wav", sample_rate=8000)
    assert codes(rec.warnings) == [Code.LOW_LEVEL] and "very low level: peak -46 dBFS" == rec.warnings[0]
    assert all(isinstance(w, Note) for w in rec.warnings)


def test_float_overs_are_scaled_not_clipped(tmp_path):
    x = vowel(1.0, lead=0.1, level=1.0) * 3.0  # a float file may hold values beyond +-1
    sf.write(tmp_path / "hot.wav", x, 8000, subtype="FLOAT")
    rec = load_recording(tmp_path / "hot.wav", sample_rate=8000)
    assert codes(rec.warnings) == [Code.SCALED] and "reach 3" in rec.warnings[0]
    np.testing.assert_allclose(rec.samples, x / np.abs(x).max(), atol=1e-5)


def test_very_long_files_are_bounded_with_a_warning(tmp_path):
    sr = 4000
    x = (0.1 * np.sin(np.arange(int((MAX_SECONDS + 5) * sr)))).astype(np.float32)
    sf.write(tmp_path / "long.wav", x, sr)
    rec = load_recording(tmp_path / "long.wav", sample_rate=4000)
    assert abs(rec.seconds - MAX_SECONDS) < 0.01
    assert any("only the first 120 s are used" in w for w in rec.warnings)
    assert codes(rec.warnings) == [Code.TRUNCATED]
