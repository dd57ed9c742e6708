#!/usr/bin/env bash
# Reproduce the bundled model (resources/models/sand_convnext_atto_synthetic.safetensors):
#   synthetic training corpus (generator 2.0, every family, 300 patients, seed 1, uniform class priors)
#   and held-out corpus (300, seed 2, IDs from 1000, SAND class priors)
#   -> feature cache -> fit (training/configs/bundled.yaml) -> evaluate on the held-out corpus
#   -> bundle (with the held-out scores in its card) + metrics JSON
#   -> fuse: a measures classifier (XGBoost on Praat measures) fitted on a third corpus of its own (900 patients,
#      seed 21, IDs from 5000, every family, uniform priors: its 720 training patients) plus every patient of the
#      training corpus (--more-measures-data: 1,020 in all; the network's 240 alone gave it 0.66 held-out
#      macro-F1, see benchmarks/bench_measures_curve.py), the rule fixed to "measures" (RULE; the leave-one-mechanism-out table: the measures carry over to unheard
#      voices, the network does not; RULE=auto lets its 180 validation patients choose), evaluated side by side
#      (network, measures, fusion) on the held-out corpus (needs praat-parselmouth; FUSE=0 ships the network alone).
# Usage: training/reproduce_bundled.sh [WORK_DIR] [extra --set overrides for fit, e.g. epochs=2]
# Environment: PY (python to use, default python3), PATIENTS (300), HELDOUT (300), MEASURES_PATIENTS (900),
#              WORKERS (synth processes),
#              DEVICE (auto), INSTALL (1: copy the bundle into resources/models/), FUSE (1),
#              MEASURE_WORKERS (processes measuring recordings, default 2), RULE (measures), BECAUSE.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-runs/bundled}; shift || true
PY=${PY:-python3}
PATIENTS=${PATIENTS:-300}; HELDOUT=${HELDOUT:-300}; MEASURES_PATIENTS=${MEASURES_PATIENTS:-900}; WORKERS=${WORKERS:-$(nproc)}; DEVICE=${DEVICE:-auto}
FUSE=${FUSE:-1}; MEASURE_WORKERS=${MEASURE_WORKERS:-2}; RULE=${RULE:-measures}
BECAUSE=${BECAUSE:-"the measures carry over to synthesis families the network never heard (the card's leave-one-mechanism-out rows: benchmarks/bench_lomo.py); validation patients share the training families and cannot show that"}
RULE_ARGS=(--rule "$RULE"); [ "$RULE" = auto ] || RULE_ARGS+=(--because "$BECAUSE")
NAME=sand_convnext_atto_synthetic
CONFIG=training/configs/bundled.yaml
T=(-m training)

$PY "${T[@]}" synth "$WORK/synth-train" --patients "$PATIENTS" --seed 1 --class-priors uniform --workers "$WORKERS" --quiet
$PY "${T[@]}" synth "$WORK/synth-heldout" --patients "$HELDOUT" --seed 2 --id-offset 1000 --workers "$WORKERS" --quiet
$PY "${T[@]}" preprocess --data "$WORK/synth-train" --cache "$WORK/cache" --config "$CONFIG" --workers "$WORKERS" --quiet
$PY "${T[@]}" preprocess --data "$WORK/synth-heldout" --cache "$WORK/cache" --config "$CONFIG" --workers "$WORKERS" --quiet
rm -rf "$WORK/run"
$PY "${T[@]}" fit --config "$CONFIG" --quiet --set data="$WORK/synth-train" cache="$WORK/cache" data_workers="$WORKERS" \
    run_dir="$WORK/run" device="$DEVICE" "$@"
$PY "${T[@]}" evaluate --model "$WORK/run/model.safetensors" --data "$WORK/synth-heldout" --sheet training \
    --cache "$WORK/cache" --device "$DEVICE" --write-card heldout --json --quiet > "$WORK/heldout_metrics.json"
$PY "${T[@]}" evaluate --model "$WORK/run/model.safetensors" --data "$WORK/synth-heldout" --sheet training \
    --cache "$WORK/cache" --device "$DEVICE" --quiet | tee "$WORK/heldout_metrics.txt"
SHIP="$WORK/run/model.safetensors"
if [ "$FUSE" = 1 ]; then
  $PY "${T[@]}" synth "$WORK/synth-measures" --patients "$MEASURES_PATIENTS" --seed 21 --id-offset 5000 \
      --class-priors uniform --workers "$WORKERS" --quiet
  $PY "${T[@]}" fuse --model "$WORK/run/model.safetensors" --data "$WORK/synth-measures" \
      --more-measures-data "$WORK/synth-train" --cache "$WORK/cache" --workers "$MEASURE_WORKERS" --device "$DEVICE" --out "$WORK/fused.safetensors" "${RULE_ARGS[@]}" --quiet \
      | tee "$WORK/fuse.txt"
  $PY "${T[@]}" evaluate --model "$WORK/fused.safetensors" --data "$WORK/synth-heldout" --sheet training \
      --cache "$WORK/cache" --workers "$MEASURE_WORKERS" --device "$DEVICE" --write-card heldout --json --quiet \
      > "$WORK/heldout_fused_metrics.json"
  $PY "${T[@]}" evaluate --model "$WORK/fused.safetensors" --data "$WORK/synth-heldout" --sheet training \
      --cache "$WORK/cache" --workers "$MEASURE_WORKERS" --device "$DEVICE" --quiet | tee "$WORK/heldout_fused_metrics.txt"
  SHIP="$WORK/fused.safetensors"
fi
if [ "${INSTALL:-1}" = 1 ]; then
  mkdir -p resources/models
  cp "$SHIP" "resources/models/$NAME.safetensors"
  echo "installed resources/models/$NAME.safetensors"
fi
