#!/bin/sh
# One shard of a sweep, safe to start again: a task that was preempted, killed or timed out and is
# started again continues from its journal (or its results file) instead of starting over, and a
# shard that is already complete only rewrites its results.
#
#   SHARDS   the number of shards N; the index I comes from JOB_COMPLETION_INDEX (Kubernetes
#            Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array), read by `--shard env/N`
#   OUT_DIR  where the shard's results go (default: results)
#   JOBS     worker processes in this task (default: one per core the task sees)
#   arguments: the experiment's flags, the same for every shard
#
# Afterwards: npm run merge -- "$OUT_DIR"/shard-*-of-$SHARDS.json --out "$OUT_DIR"/all.json
set -eu
: "${SHARDS:?set SHARDS to the number of shards}"
OUT_DIR="${OUT_DIR:-results}"
INDEX="${JOB_COMPLETION_INDEX:-${SLURM_ARRAY_TASK_ID:-}}"
: "${INDEX:?neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set}"
OUT="$OUT_DIR/shard-$INDEX-of-$SHARDS.json"
JOURNAL="$OUT_DIR/shard-$INDEX-of-$SHARDS.journal.jsonl"
cd "$(dirname "$0")/../.."
set -- "$@" ${JOBS:+--jobs "$JOBS"}
# exec: node receives SIGTERM itself (preemption, the time limit), stops after its current step and writes the rounds.
if [ -e "$JOURNAL" ]; then
  exec node --import tsx src/cli/experiment.ts --resume "$JOURNAL" --out "$OUT" ${JOBS:+--jobs "$JOBS"}
elif [ -e "$OUT" ]; then
  exec node --import tsx src/cli/experiment.ts --resume "$OUT" ${JOBS:+--jobs "$JOBS"}
else
  exec node --import tsx src/cli/experiment.ts "$@" --shard "env/$SHARDS" --out "$OUT"
fi
