#!/usr/bin/env bash
# Reproduce the bundled model (resources/models/sand_convnext_atto_synthetic.safetensors):
#   synthetic training corpus (300 patients, seed 1) and held-out corpus (300, seed 2, IDs from 1000)
#   -> feature cache -> fit (training/configs/bundled.yaml) -> evaluate on the held-out corpus
#   -> bundle (with the held-out scores in its card) + metrics JSON.
# Usage: training/reproduce_bundled.sh [WORK_DIR] [extra --set overrides for fit, e.g. epochs=2]
# Environment: PY (python to use, default python3), PATIENTS (300), HELDOUT (300), WORKERS (synth processes),
#              DEVICE (auto), INSTALL (1: copy the bundle into resources/models/).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-runs/bundled}; shift || true
PY=${PY:-python3}
PATIENTS=${PATIENTS:-300}; HELDOUT=${HELDOUT:-300}; WORKERS=${WORKERS:-$(nproc)}; DEVICE=${DEVICE:-auto}
NAME=sand_convnext_atto_synthetic
CONFIG=training/configs/bundled.yaml
T=(-m training)

$PY "${T[@]}" synth "$WORK/synth-train" --patients "$PATIENTS" --seed 1 --workers "$WORKERS" --quiet
$PY "${T[@]}" synth "$WORK/synth-heldout" --patients "$HELDOUT" --seed 2 --id-offset 1000 --workers "$WORKERS" --quiet
$PY "${T[@]}" preprocess --data "$WORK/synth-train" --cache "$WORK/cache" --config "$CONFIG" --quiet
$PY "${T[@]}" preprocess --data "$WORK/synth-heldout" --cache "$WORK/cache" --config "$CONFIG" --quiet
rm -rf "$WORK/run"
$PY "${T[@]}" fit --config "$CONFIG" --quiet --set data="$WORK/synth-train" cache="$WORK/cache" \
    run_dir="$WORK/run" device="$DEVICE" "$@"
$PY "${T[@]}" evaluate --model "$WORK/run/model.safetensors" --data "$WORK/synth-heldout" --sheet training \
    --cache "$WORK/cache" --device "$DEVICE" --write-card heldout --json --quiet > "$WORK/heldout_metrics.json"
$PY "${T[@]}" evaluate --model "$WORK/run/model.safetensors" --data "$WORK/synth-heldout" --sheet training \
    --cache "$WORK/cache" --device "$DEVICE" --quiet | tee "$WORK/heldout_metrics.txt"
if [ "${INSTALL:-1}" = 1 ]; then
  mkdir -p resources/models
  cp "$WORK/run/model.safetensors" "resources/models/$NAME.safetensors"
  echo "installed resources/models/$NAME.safetensors"
fi
