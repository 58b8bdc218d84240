"""Benchmarks: tbcore against torch.utils.tensorboard, tensorboardX, other readers and encoders.

Run with ``python -m benchmarks.run``; docs/performance.md says what each workload measures
and shows the latest results.
"""
