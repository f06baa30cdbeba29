#!/bin/sh
# A sweep with GNU parallel: 4 shards side by side, then the merge. On one machine this is what
# --jobs 4 does, with a results file per shard; with -S host1,host2 (and the checkout at the same
# path on a shared file system) the shards run on other machines.
parallel --line-buffer -j 4 'npm run experiment -- --preset gal2017 --repeats 5 --seed 1 --jobs 1 --shard {}/4 --out results/shard-{}-of-4.json' ::: 0 1 2 3 && npm run merge -- results/shard-*-of-4.json --out results/all.json
