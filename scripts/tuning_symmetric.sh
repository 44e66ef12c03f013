#!/usr/bin/env bash
# The symmetric tuning comparison (issue 26, item 4): SeqGAN and MLE searched alike at the quick preset.
# Both spaces search MLE pre-training (epochs 10-120, learning rate 1e-3..3e-2); SeqGAN's adds its
# adversarial keys (configs/tune/symmetric_*.yaml). Both search at T = 1 for NLL-oracle and NLL-test;
# seqgan experiment tuning-symmetric then sweeps every trial over one temperature grid, sums each
# study's training CPU-hours, compares the fronts (all trials, equal trials, equal compute) and
# retrains the trials whose points are said to dominate on fresh seeds 30, 31, 32.
# D in fp32, one thread a trial, one worker a study: run the two studies side by side on two cores,
#   bash scripts/tuning_symmetric.sh mle &  bash scripts/tuning_symmetric.sh seqgan &  wait
#   bash scripts/tuning_symmetric.sh compare
# Re-running a step continues it (seqgan tune continues a study to --trials; finished runs are reused).
# OUT (default results/tuning_symmetric), MLE_TRIALS (40) and SEQGAN_TRIALS (20) from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."  # PY, CONFIG and the spaces are paths from the repository root
STEP="${1:?usage: tuning_symmetric.sh mle|seqgan|compare}"
OUT="${OUT:-results/tuning_symmetric}"
PY="${PY:-.venv/bin/python}"
CONFIG="${CONFIG:-configs/synthetic_quick.yaml}"
COMMON=(--objectives nll_oracle,nll_test --workers 1 --seed 0 --pruner none
    --set "rows.names=[]" --set threads=1 --set discriminator.precision=fp32)
[ -n "${SEQGAN_DATA_DIR:-}" ] && COMMON+=(--set "data_dir=$SEQGAN_DATA_DIR")
EXTRA=("${@:2}")  # more flags for this step (a test makes the runs tiny with --set)

case "$STEP" in
    mle)
        "$PY" -m seqgan tune "$CONFIG" --space configs/tune/symmetric_mle.yaml --trials "${MLE_TRIALS:-40}" \
            "${COMMON[@]}" --set train.rounds=0 --set train.pretrain_d_steps=0 \
            --study symmetric-mle --dir "$OUT/mle" "${EXTRA[@]}" ;;
    seqgan)
        "$PY" -m seqgan tune "$CONFIG" --space configs/tune/symmetric_seqgan.yaml --trials "${SEQGAN_TRIALS:-20}" \
            "${COMMON[@]}" --study symmetric-seqgan --dir "$OUT/seqgan" "${EXTRA[@]}" ;;
    compare)
        "$PY" -m seqgan experiment tuning-symmetric --studies "SeqGAN=$OUT/seqgan" "MLE=$OUT/mle" \
            --confirm-seeds "${CONFIRM_SEEDS:-30,31,32}" --jobs 2 --out "$OUT" "${EXTRA[@]}" ;;
    *) echo "tuning_symmetric.sh: unknown step '$STEP' (mle, seqgan or compare)" >&2; exit 2 ;;
esac
