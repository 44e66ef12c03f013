#!/usr/bin/env bash
# Real data over seeds (issue 26, item 5): Poems, Obama and Nottingham at today's defaults, at the
# budget of results/real (configs/TASK.yaml as committed: the same epochs, rounds, d-steps and
# samples as results/real/TASK/config.yaml; only the defaults changed since, to one LSTM bias and
# rollout_update_rate 0), each with its MLE row. D in fp32 on every machine (as results/real on the
# AMD EPYC and scripts/own_start.sh; 'auto' would pick bf16 on an AMX Xeon), so that seeds run on
# different machines compute alike. One `seqgan train` a task and seed, one thread, run one after
# another; the log beside the run folder (OUT/TASK/seedS.log). Re-running continues
# where it stopped: --resume where a checkpoint exists, finished runs (results.json) are skipped.
#   bash scripts/real_seeds.sh poems,obama,nottingham 0,1,2 [OUT=results/real_seeds]
# two at a time on two cores: one call per task list, e.g. `... poems,obama 0,1,2 &` and `... nottingham 0,1,2 &`
# then: seqgan experiment real --runs OUT
set -euo pipefail
TASKS="${1:?usage: real_seeds.sh TASKS SEEDS [OUT], e.g. poems,obama,nottingham 0,1,2}"
SEEDS="${2:?usage: real_seeds.sh TASKS SEEDS [OUT]}"
OUT="${3:-results/real_seeds}"
PY="${PY:-.venv/bin/python}"
CONFIGS="${CONFIGS:-configs}"  # where TASK.yaml is read (a test points it at tiny configs)
COMMON=(--set threads=1 --set discriminator.precision=fp32)
[ -n "${SEQGAN_DATA_DIR:-}" ] && COMMON+=(--data-dir "$SEQGAN_DATA_DIR")

for task in ${TASKS//,/ }; do
    for seed in ${SEEDS//,/ }; do
        dir="$OUT/$task/seed$seed"
        if [ -f "$dir/results.json" ]; then continue; fi
        resume=()
        [ -f "$dir/checkpoint.pt" ] && resume=(--resume)
        mkdir -p "$OUT/$task"
        "$PY" -m seqgan train "$CONFIGS/$task.yaml" --seed "$seed" "${COMMON[@]}" --run-dir "$dir" "${resume[@]}" \
            >> "$dir.log" 2>&1
        echo "$task seed $seed done: $(date -u +%FT%TZ)"
    done
done
