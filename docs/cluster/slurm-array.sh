#!/bin/bash
# A sweep as a Slurm job array: task I runs shard I of 4 (--shard env/4 reads SLURM_ARRAY_TASK_ID).
# From the repository root, after npm ci, on a file system every node sees:
#   mkdir -p results && sbatch docs/cluster/slurm-array.sh
# and the merge once every task has succeeded (<jobid> as sbatch printed it):
#   sbatch --dependency=afterok:<jobid> --wrap 'npm run merge -- results/shard-*-of-4.json --out results/all.json'
# A task that was preempted (--requeue) or ran out of time and is submitted again continues from
# its journal: run-shard.sh resumes whatever the shard left.
#SBATCH --job-name=activelab-sweep
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --signal=B:TERM@120
#SBATCH --output=results/slurm-%A_%a.log
# --array=0-3 must match SHARDS; --signal: 2 minutes before the time limit the run gets SIGTERM,
# finishes its current step and writes the completed rounds.
export SHARDS=4
export JOBS="${SLURM_CPUS_PER_TASK:-1}"
export OUT_DIR=results
exec docs/cluster/run-shard.sh --preset gal2017 --repeats 5 --seed 1
