"""Benchmarks: tbcore against torch.utils.tensorboard and tensorboardX, run with ``python -m benchmarks.run``.

See docs/performance.md for what each workload measures and the latest results.
"""
