"""One patient's eight recordings: severity parameters + families -> source, tract, articulation, channel.

Random streams (all from ``numpy.random.default_rng``): ``[seed, index, 1]`` the severity
parameters, ``[seed, index, 2, task]`` each recording, ``[seed, index, 3, k]`` the families and
speaker settings (``families.draw_voice``), ``[seed, index, 5]`` the random parts of the
patient's channel. A patient's channel family is applied to its eight captured recordings
joined by ``GAP_S`` of silence, in one call (one phone per patient; one ffmpeg round trip per
patient for the ffmpeg codecs), then each recording is quantised to 16 bits.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from sand_gui.tasks import PHONATION, TASK_IDS, get_task

from .channel import capture, draw_channel, quantise
from .channel_spec import apply_channel
from .ddk import TrainSpec, ddk_train
from .families import Families, draw_voice
from .severity import DDK_RATE_FACTOR, draw_patient
from .source import SourceSpec
from .vowels import sustained_vowel

if TYPE_CHECKING:
    from .corpus import PatientPlan

GAP_S = 0.25


def _speech(task_id: str, *, params: dict, plan, voice, r: np.random.Generator, sample_rate: int):
    """One recording's speech before the phone, and facts about it."""
    source = SourceSpec(
        f0_hz=params["f0_hz"] * float(np.exp(0.03 * r.standard_normal())),
        jitter=params["jitter"] * float(np.exp(0.1 * r.standard_normal())),
        shimmer=params["shimmer"] * float(np.exp(0.1 * r.standard_normal())),
        tremor_hz=params["tremor_hz"],
        tremor_depth=params["tremor_depth"],
        breaks_per_s=params["breaks_per_s"],
        creak_fraction=params["creak_fraction"],
        open_quotient=params["open_quotient"],
        speed_quotient=voice.speed_quotient,
        model=voice.source,
        rd_factor=voice.rd_factor,
    )
    hnr = params["hnr_db"] + float(r.normal(0.0, 1.0))
    common = dict(
        sex=plan.sex,
        tract_scale=params["tract_scale"],
        centralisation=params["centralisation"],
        nasality=params["nasality"],
        hnr_db=hnr,
        sample_rate=sample_rate,
        rng=r,
        tract=voice.tract,
    )
    if get_task(task_id).family == PHONATION:
        seconds = float(np.clip(params["phonation_s"] * np.exp(0.12 * r.standard_normal()), 3.0, 8.0))
        seconds = min(seconds, plan.max_seconds or seconds)
        decline = 0.15 + 0.4 * max(params["severity"], 0.0)
        speech = sustained_vowel(task_id[-1].lower(), seconds=seconds, source=source, decline=decline, **common)
        fact = {"f0_hz": source.f0_hz, "first_s": 0.0, "last_s": seconds}
    else:
        syllable = task_id[-2:].lower()
        train = TrainSpec(
            syllable=syllable,
            rate=params["ddk_rate"] * DDK_RATE_FACTOR[syllable] * float(np.exp(0.04 * r.standard_normal())),
            cv=params["ddk_cv"],
            imprecision=params["imprecision"],
            fatigue=params["fatigue"],
            seconds=min(float(r.uniform(3.5, 6.0)), plan.max_seconds or 6.0),
        )
        # no voice breaks inside a DDK train: a break would read as an extra syllable
        speech, fact = ddk_train(
            train, source=replace(source, breaks_per_s=0.0), articulation=voice.articulation, **common
        )
        fact = {"f0_hz": source.f0_hz, "rate_target": train.rate, **fact}
    fact.update(hnr_db=hnr, jitter=source.jitter, shimmer=source.shimmer)
    return speech, fact


def render_patient(
    plan: PatientPlan, *, seed: int, sample_rate: int, families: Families | None = None
) -> tuple[dict, dict[str, np.ndarray]]:
    """One patient's true parameters and its eight recordings (task id -> int16 [shape=(n,)])."""
    rng = np.random.default_rng([seed, plan.index, 1])
    params = draw_patient(plan.klass, sex=plan.sex, age=plan.age, rng=rng, typical=plan.typical)
    voice = draw_voice(seed=seed, index=plan.index, sex=plan.sex, families=families or Families(), typical=plan.typical)
    captured: list[tuple[str, np.random.Generator, np.ndarray]] = []
    facts: dict[str, dict] = {}
    for t_index, task_id in enumerate(TASK_IDS):
        r = np.random.default_rng([seed, plan.index, 2, t_index])
        speech, fact = _speech(task_id, params=params, plan=plan, voice=voice, r=r, sample_rate=sample_rate)
        channel = draw_channel(r)
        captured.append((task_id, r, capture(speech, channel=channel, sample_rate=sample_rate, rng=r)))
        fact.update(
            first_s=fact["first_s"] + channel.lead_s,
            last_s=fact["last_s"] + channel.lead_s,
            snr_db=channel.snr_db,
            clipped=channel.peak_dbfs > 0,
        )
        facts[task_id] = fact
    if voice.channel.effects:
        gap = np.zeros(int(GAP_S * sample_rate))
        joined = np.concatenate([part for _, _, y in captured for part in (y, gap)])
        out = apply_channel(
            joined, sample_rate, channel=voice.channel, rng=np.random.default_rng([seed, plan.index, 5])
        )
        start, changed = 0, []
        for task_id, r, y in captured:
            z = out[start : start + len(y)]
            start += len(y) + len(gap)
            before, after = float(np.abs(y).max()), float(np.abs(z).max())
            if after > max(before, 1.0) and not any(e.kind == "clip" for e in voice.channel.effects):
                z = z * max(before, 0.98) / after  # effects other than clipping add no clipping of their own
            changed.append((task_id, r, z))
        captured = changed
    audio = {task_id: quantise(y, rng=r) for task_id, r, y in captured}
    for task_id, samples in audio.items():
        facts[task_id]["seconds"] = len(samples) / sample_rate
        facts[task_id]["clipped"] = bool(facts[task_id]["clipped"] or np.abs(samples.astype(np.int32)).max() >= 32767)
    record = {
        "id": plan.id,
        "class": plan.klass,
        "age": plan.age,
        "sex": plan.sex,
        "split": plan.split,
        "typical": plan.typical,
        "families": voice.families(),
        "params": params,
        "voice": voice.to_dict(),
        "recordings": facts,
    }
    return record, audio
