"""add_embedding of a 10k x 128 float32 matrix: tbcore against torch.utils.tensorboard, side by side.

Run: ``python benchmarks/bench_embedding.py [--rows 10000] [--cols 128] [--repeat 5]``. Each round
times both writers on the same matrix (in alternating order, each into a fresh log dir) and
reports the median and best times and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np


def time_call(writer_class, mat) -> float:
    """Return the seconds one ``add_embedding`` takes, including closing the writer (files on disk)."""
    with tempfile.TemporaryDirectory() as logdir:
        writer = writer_class(logdir)
        start = time.perf_counter()
        writer.add_embedding(mat, global_step=1, tag="bench")
        writer.close()
        return time.perf_counter() - start


def main() -> None:
    """Time both writers and print a table."""
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from tbcore import SummaryWriter

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--cols", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    mat = np.random.default_rng(0).standard_normal((args.rows, args.cols)).astype(np.float32)
    times: dict[str, list[float]] = {"tbcore": [], "torch": []}
    writers = {"tbcore": SummaryWriter, "torch": TorchWriter}
    for round_ in range(args.repeat):
        order = ["tbcore", "torch"] if round_ % 2 == 0 else ["torch", "tbcore"]
        for name in order:
            times[name].append(time_call(writers[name], mat))
    print(f"add_embedding of a {args.rows} x {args.cols} float32 matrix, {args.repeat} rounds")
    for name, values in times.items():
        print(f"  {name:7s} median {statistics.median(values):.3f} s   best {min(values):.3f} s")
    ratio = statistics.median(times["tbcore"]) / statistics.median(times["torch"])
    print(f"  tbcore / torch (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
