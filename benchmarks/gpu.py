"""Does logging the loss every step slow a GPU training step? ``python -m benchmarks.gpu [--steps N] [--json PATH]``

A training step of an 8-layer, 4096-wide MLP (batch 512, bf16 autocast, AdamW) is timed
with no logging, with tbcore's ``add_scalar(loss)`` (a non-blocking device-to-host copy),
with torch's ``SummaryWriter.add_scalar(loss)`` and with ``loss.item()`` (both wait for the
GPU). The same loop runs in JAX where JAX has an accelerator. Variants are interleaved in
rounds and the median step time of the rounds is reported. Where there is no CUDA (or no
JAX accelerator) that part prints "skipped: ..." and the script still exits 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

WIDTH, DEPTH, BATCH = 4096, 8, 512


def _rounds(variants: dict[str, Callable[[int], float]], steps: int, rounds: int) -> dict[str, float]:
    """Run every variant ``rounds`` times, interleaved; return the median ms per step of each."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            times[name].append(run(steps) / steps * 1e3)
    return {name: statistics.median(values) for name, values in times.items()}


def torch_results(steps: int, rounds: int) -> dict[str, Any]:
    """Time the torch loop with each way of logging the loss."""
    try:
        import torch
    except ImportError:
        return {"skipped": "torch is not installed"}
    if not torch.cuda.is_available():
        return {"skipped": "no CUDA"}
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from tbcore import SummaryWriter

    device = torch.device("cuda")
    layers: list[torch.nn.Module] = []
    for _ in range(DEPTH):
        layers += [torch.nn.Linear(WIDTH, WIDTH), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randn(BATCH, WIDTH, device=device)
    y = torch.randn(BATCH, WIDTH, device=device)
    logdir = tempfile.mkdtemp(prefix="tbcore-gpu-")
    ours, theirs = SummaryWriter(f"{logdir}/tbcore"), TorchWriter(f"{logdir}/torch")
    log: dict[str, Callable[[Any, int], Any]] = {
        "no logging": lambda loss, step: None,
        "tbcore add_scalar": lambda loss, step: ours.add_scalar("loss", loss, step),
        "torch add_scalar": lambda loss, step: theirs.add_scalar("loss", loss, step),
        "loss.item()": lambda loss, step: loss.item(),
    }

    def loop(logger: Callable[[Any, int], Any]) -> Callable[[int], float]:
        def run(count: int) -> float:
            torch.cuda.synchronize()
            start = time.perf_counter()
            for step in range(count):
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    loss = torch.nn.functional.mse_loss(model(x), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                logger(loss, step)
            torch.cuda.synchronize()
            return time.perf_counter() - start

        return run

    variants = {name: loop(fn) for name, fn in log.items()}
    for run in variants.values():  # warm-up: kernels, allocators (pinned memory too), optimizer state, writers
        run(10)
    result: dict[str, Any] = _rounds(variants, steps, rounds)
    ours.close()
    theirs.close()
    result["device"] = torch.cuda.get_device_name()
    return result


def jax_results(steps: int, rounds: int) -> dict[str, Any]:
    """Time the JAX loop (hand-written AdamW) with no logging, tbcore, and ``float(loss)``."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {"skipped": "JAX is not installed"}
    if jax.default_backend() == "cpu":
        return {"skipped": "JAX has no accelerator"}
    from tbcore import SummaryWriter

    keys = jax.random.split(jax.random.PRNGKey(0), DEPTH + 2)
    params = [jax.random.normal(k, (WIDTH, WIDTH)) / WIDTH**0.5 for k in keys[:DEPTH]]
    x, y = (jax.random.normal(k, (BATCH, WIDTH)) for k in keys[DEPTH:])

    def loss_fn(params: list[Any]) -> Any:
        h = x.astype(jnp.bfloat16)
        for i, w in enumerate(params):
            h = h @ w.astype(jnp.bfloat16)
            h = jax.nn.relu(h) if i < DEPTH - 1 else h
        return jnp.mean((h.astype(jnp.float32) - y) ** 2)

    @jax.jit
    def train_step(params: list[Any], m: list[Any], v: list[Any], t: Any) -> tuple[Any, ...]:
        loss, grads = jax.value_and_grad(loss_fn)(params)
        m = [0.9 * a + 0.1 * g for a, g in zip(m, grads, strict=True)]
        v = [0.999 * a + 0.001 * g * g for a, g in zip(v, grads, strict=True)]
        scale = jnp.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        moments = zip(params, m, v, strict=True)
        params = [p * (1 - 1e-6) - 1e-4 * scale * a / (jnp.sqrt(b) + 1e-8) for p, a, b in moments]
        return params, m, v, loss

    state = [params, [jnp.zeros_like(p) for p in params], [jnp.zeros_like(p) for p in params]]
    writer = SummaryWriter(tempfile.mkdtemp(prefix="tbcore-gpu-jax-"))
    log: dict[str, Callable[[Any, int], Any]] = {
        "no logging": lambda loss, step: None,
        "tbcore add_scalar": lambda loss, step: writer.add_scalar("loss", loss, step),
        "float(loss)": lambda loss, step: float(loss),
    }

    def loop(logger: Callable[[Any, int], Any]) -> Callable[[int], float]:
        def run(count: int) -> float:
            jax.block_until_ready(state[0])
            start = time.perf_counter()
            for step in range(count):
                state[0], state[1], state[2], loss = train_step(*state, step + 1.0)
                logger(loss, step)
            jax.block_until_ready(state[0])
            return time.perf_counter() - start

        return run

    variants = {name: loop(fn) for name, fn in log.items()}
    for run in variants.values():  # warm-up: compiles the step and tbcore's device copy
        run(5)
    result: dict[str, Any] = _rounds(variants, steps, rounds)
    writer.close()
    result["device"] = str(jax.devices()[0])
    return result


def _print(name: str, result: dict[str, Any]) -> None:
    if "skipped" in result:
        print(f"{name}: skipped: {result['skipped']}")
        return
    print(f"{name} on {result['device']}:")
    base = result["no logging"]
    for variant, ms in result.items():
        if variant != "device":
            print(f"  {variant:<20} {ms:8.3f} ms/step  {ms / base:5.3f}x")
    ratio = result["tbcore add_scalar"] / base
    print(f"  target: tbcore at most 1.03x the loop without logging: {'met' if ratio <= 1.03 else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    """Run the torch and JAX loops where they have an accelerator; print ms per step and ratios."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per variant")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    args = parser.parse_args(argv)
    results = {"torch": torch_results(args.steps, args.rounds), "jax": jax_results(args.steps, args.rounds)}
    for name, result in results.items():
        _print(name, result)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
