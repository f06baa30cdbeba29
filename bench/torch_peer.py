#!/usr/bin/env python3
"""The PyTorch peer of `npm run bench`: the same Gal CNN, trained and predicting on this machine.

Trains the Gal, Islam & Ghahramani (2017) MNIST CNN as ActiveLab builds it (models/index.ts):
conv 32@4x4 relu, conv 32@4x4 relu, maxpool 2x2, dropout 0.25, dense 128 relu, dropout 0.5,
dense 10, softmax cross-entropy; Adam at 1e-3; batch 32, epochs of 512 images (16 steps). Then
predicts 10,000 images (eval mode, no gradients, chunks of 256 as the engine's predictProbs).
Inputs are seeded uniform pixels in [0, 1) of MNIST's shape (28 x 28 x 1): the work per image is
the same as on MNIST. Runs at one thread and at all threads (torch.set_num_threads).

Prints one JSON object on stdout:
  {"torch": "1.13.1", "python": "3.11.2", "cpus": 2,
   "runs": [{"threads": 1, "trainEpochS": [...], "predictS": [...]}, ...]}
with one value per measured epoch / predict pass (after a warm-up epoch and a warm-up chunk);
trainEpochCpuS is the process's CPU time per epoch (time.process_time, all threads): at one thread
the load-robust view of the same work on a shared machine.

With --serve, trains at one thread on request, for runs interleaved with wasm's epochs: after a
warm-up epoch it prints {"ready": true}, then for each line "epoch" on stdin one training epoch and
{"wallS": ..., "cpuS": ...} (a line each); it exits at end of input.

Usage: python3 bench/torch_peer.py [--epochs 5] [--predict-runs 2] [--quick] | --serve
"""
import argparse
import json
import os
import platform
import sys
import time

import torch
from torch import nn

BATCH = 32
EPOCH_IMAGES = 512
PREDICT_IMAGES = 10_000
CHUNK = 256


def gal_cnn(num_classes: int = 10) -> nn.Module:
    # Channels first (PyTorch's layout); the same layers and parameter count (tfjs is channels last).
    return nn.Sequential(
        nn.Conv2d(1, 32, 4), nn.ReLU(),
        nn.Conv2d(32, 32, 4), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(11 * 11 * 32, 128), nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, num_classes),
    )


def trainer(threads: int):
    """The model, its data and one timed epoch: returns (epoch, model, pool)."""
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(EPOCH_IMAGES, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (EPOCH_IMAGES,), generator=g)
    pool = torch.rand(PREDICT_IMAGES, 1, 28, 28, generator=g)
    torch.manual_seed(1)
    model = gal_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def epoch() -> tuple:
        model.train()
        t, c = time.perf_counter(), time.process_time()
        for i in range(0, EPOCH_IMAGES, BATCH):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[i:i + BATCH]), y[i:i + BATCH])
            loss.backward()
            opt.step()
        loss.item()
        return time.perf_counter() - t, time.process_time() - c

    return epoch, model, pool


def serve() -> None:
    """One thread; an epoch per "epoch" line on stdin, its wall and CPU seconds a line on stdout."""
    epoch, _, _ = trainer(1)
    epoch()  # warm-up
    print(json.dumps({"ready": True, "torch": torch.__version__, "python": platform.python_version()}), flush=True)
    for line in sys.stdin:
        if line.strip() != "epoch":
            continue
        w, c = epoch()
        print(json.dumps({"wallS": w, "cpuS": c}), flush=True)


def measure(threads: int, epochs: int, predict_runs: int) -> dict:
    epoch, model, pool = trainer(threads)

    def predict(n: int) -> float:
        model.eval()
        t = time.perf_counter()
        with torch.no_grad():
            for i in range(0, n, CHUNK):
                torch.softmax(model(pool[i:i + CHUNK]), dim=1)
        return time.perf_counter() - t

    epoch()  # warm-up
    train = [epoch() for _ in range(epochs)]
    predict(CHUNK)  # warm-up
    pred = [predict(PREDICT_IMAGES) for _ in range(predict_runs)]
    return {"threads": threads, "trainEpochS": [w for w, _ in train], "trainEpochCpuS": [c for _, c in train], "predictS": pred}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--predict-runs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="2 epochs, 1 predict pass")
    ap.add_argument("--serve", action="store_true", help="one thread, an epoch per 'epoch' line on stdin")
    a = ap.parse_args()
    if a.serve:
        serve()
        return
    epochs, predict_runs = (2, 1) if a.quick else (a.epochs, a.predict_runs)
    cpus = os.cpu_count() or 1
    counts = [1] if cpus == 1 else [1, cpus]
    runs = []
    for threads in counts:
        print(f"torch: {threads} thread(s)...", file=sys.stderr, flush=True)
        runs.append(measure(threads, epochs, predict_runs))
    print(json.dumps({"torch": torch.__version__, "python": platform.python_version(), "cpus": cpus, "runs": runs}))


if __name__ == "__main__":
    main()
