"""Time add_graph: tbcore (torch.export, jit fallback) against torch.utils.tensorboard, and a JAX graph.

Run: .venv/bin/python benchmarks/bench_graph.py
"""

from __future__ import annotations

import tempfile
import time

import jax
import jax.numpy as jnp
import torch
from torch.utils.tensorboard import SummaryWriter as TorchWriter

from tbcore import SummaryWriter


def seconds(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    model = torch.nn.Sequential(*[torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU()) for _ in range(8)])
    x = torch.randn(4, 64)
    with tempfile.TemporaryDirectory() as d, SummaryWriter(d) as ours, TorchWriter(d + "/t") as theirs:
        print(
            f"torch 8x(Linear+ReLU): tbcore {seconds(lambda: ours.add_graph(model, x)):.3f} s, "
            f"torch.utils.tensorboard {seconds(lambda: theirs.add_graph(model, x)):.3f} s"
        )

        def mlp(ws, h):
            return jax.lax.scan(lambda c, w: (jnp.tanh(c @ w), None), h, ws)[0]

        args = (jnp.ones((8, 64, 64)), jnp.ones((4, 64)))
        print(f"JAX scan MLP: tbcore {seconds(lambda: ours.add_graph(mlp, args)):.3f} s")


if __name__ == "__main__":
    main()
