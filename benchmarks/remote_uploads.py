"""Bytes uploaded to a store without append over a long run, and the cost of a non-writing rank's calls.

Run: .venv/bin/python benchmarks/remote_uploads.py [flushes] [scalars_per_flush]
"""

from __future__ import annotations

import sys
import time
import uuid

import fsspec

from tbcore import SummaryWriter


def uploads_over_a_run(flushes: int, per_flush: int) -> None:
    """Log ``per_flush`` scalars then flush, ``flushes`` times, to memory://; print what was uploaded."""
    fs = fsspec.filesystem("memory")
    root = f"/bench-{uuid.uuid4().hex[:8]}"
    sizes: list[int] = []
    inner = fs.pipe_file

    def counting(path: str, data: bytes, **kwargs: object) -> None:
        sizes.append(len(data))
        inner(path, data, **kwargs)

    fs.pipe_file = counting
    try:
        with SummaryWriter(f"memory://{root}/run", max_queue=10_000) as writer:
            for flush in range(flushes):
                for i in range(per_flush):
                    writer.add_scalar("loss", 0.5, flush * per_flush + i)
                writer.flush()
        stored = sum(fs.size(path) for path in fs.find(root))
        whole_file = sum(stored * (k + 1) // flushes for k in range(flushes))
        print(
            f"{flushes} flushes x {per_flush} scalars: {len(fs.find(root))} segments, {stored / 2**20:.2f} MiB stored"
        )
        print(f"  uploaded {sum(sizes) / 2**20:.2f} MiB in {len(sizes)} PUTs, largest PUT {max(sizes) / 2**10:.0f} KiB")
        print(f"  re-uploading one growing file would upload ~{whole_file / 2**20:.0f} MiB")
    finally:
        del fs.pipe_file
        fs.rm(root, recursive=True)


def inactive_rank_cost(calls: int = 200_000) -> None:
    """Print the time of add_scalar on a rank that does not write."""
    writer = SummaryWriter("unused-dir", rank=1)
    start = time.perf_counter()
    for step in range(calls):
        writer.add_scalar("loss", 0.5, step)
    elapsed = time.perf_counter() - start
    print(f"add_scalar on a non-writing rank: {elapsed / calls * 1e9:.0f} ns per call")


if __name__ == "__main__":
    uploads_over_a_run(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 100)
    inactive_rank_cost()
