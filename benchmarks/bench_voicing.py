"""What the voice check ("no voice, no vote") adds per recording: a figure, not a test.

Times ``voicing.check_voicing`` on a 5-s vowel at 8 and 22.05 kHz (median of repeats, after a
warm-up) next to the energy VAD it follows, measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sandtest import vowel  # noqa: E402

from sand_gui.vad import detect_voice  # noqa: E402
from sand_gui.voicing import check_voicing  # noqa: E402


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=9)
    a = ap.parse_args()
    for sr in (8000, 22050):
        x = vowel(5.0, sr=sr, lead=0.0)
        voicing = median_ms(lambda x=x, sr=sr: check_voicing(x, sample_rate=sr), a.repeats)
        vad = median_ms(lambda x=x: detect_voice(x), a.repeats)
        print(f"{sr} Hz, 5-s vowel: voice check {voicing:.1f} ms, energy VAD {vad:.1f} ms, ratio {voicing / vad:.1f}")


if __name__ == "__main__":
    main()
