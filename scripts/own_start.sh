#!/usr/bin/env bash
# Tuned SeqGAN against its own tempered start (issue 26, item 3), on fresh seeds at the quick budget.
# Per seed: one MLE pre-training (stopped after step 1), then two adversarial arms started from it:
#   tuned  the tuning study's best settings (results/tuning/seqgan/best.yaml, trial 10)
#   paper  the paper's settings at the quick budget (configs/synthetic_quick.yaml)
# Both arms drop the Table 1 rows (baselines.rows=[]) so that they share the pre-training, as the
# tuning study's trials did; D in fp32, one thread. Re-running continues where it stopped.
#   bash scripts/own_start.sh 10,11,12,13,14 [OUT=results/own_start]
# then: seqgan experiment temperature --runs OUT/seed*/tuned OUT/seed*/paper --out OUT/temperature
set -euo pipefail
SEEDS="${1:-10,11,12,13,14}"
OUT="${2:-results/own_start}"
PY="${PY:-.venv/bin/python}"
COMMON=(--set threads=1 --set discriminator.precision=fp32 --set "baselines.rows=[]")
[ -n "${SEQGAN_DATA_DIR:-}" ] && COMMON+=(--data-dir "$SEQGAN_DATA_DIR")

run() {  # run DIR ARGS...: start, resume or skip a finished run
    local dir="$1"; shift
    if [ -f "$dir/results.json" ] || [ -f "$dir/.pretrained" ]; then return; fi
    local resume=()
    [ -f "$dir/checkpoint.pt" ] && resume=(--resume)
    mkdir -p "$(dirname "$dir")"
    "$PY" -m seqgan train "$@" "${COMMON[@]}" --run-dir "$dir" "${resume[@]}" >> "$dir.log" 2>&1
}

for seed in ${SEEDS//,/ }; do
    base="$OUT/seed$seed"
    run "$base/pretraining" configs/synthetic_quick.yaml --seed "$seed" --stop-after-pretraining
    touch "$base/pretraining/.pretrained"
    run "$base/paper" configs/synthetic_quick.yaml --seed "$seed" --start-from "$base/pretraining"
    run "$base/tuned" results/tuning/seqgan/best.yaml --seed "$seed" --start-from "$base/pretraining"
    echo "seed $seed done: $(date -u +%FT%TZ)"
done
