"""A user's script of tbcore's public API, checked with ``mypy --strict`` by tests/test_typing.py.

``assert_type`` pins the types a user should get (mypy fails where one leaks ``Any`` or is
wrong); the script also runs, writing into the directory given as its first argument.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import numpy as np
from typing_extensions import assert_type

import tbcore
from tbcore import images, reader, summary, testing
from tbcore.proto import event_pb2, summary_pb2


def write_run(logdir: str) -> None:
    """Log a few values of several types, with the writer and with the pure encoders."""
    with tbcore.SummaryWriter(logdir) as writer:
        assert_type(writer, tbcore.SummaryWriter)
        for step in range(3):
            writer.add_scalar("loss", 1.0 / (step + 1), global_step=step)
        writer.add_scalars("lr", {"a": 0.1, "b": 0.2}, 0, same_run=True)
        writer.add_histogram("weights", np.random.default_rng(0).normal(size=100), 0, bins="auto")
        writer.add_text("note", "hello", 0)
        writer.add_hparams({"lr": 0.1}, {"hp/loss": 0.5}, run_name=".")
        writer.add("image", "pixels", np.zeros((3, 8, 8)), step=1)
        assert_type(writer.get_logdir(), str)

        proto = summary.scalar("pure/loss", 0.25)
        assert_type(proto, summary_pb2.Summary)
        writer.file_writer.add_summary(proto, global_step=4)
        experiment, start, end = summary.hparams({"lr": 0.1}, {"hp/loss": 0.5})
        assert_type(end, summary_pb2.Summary)
        assert_type(summary.embedding(np.zeros((2, 3))), tbcore.Encoded)

        pixels = images.to_uint8(np.random.default_rng(0).random((16, 16, 3)), "image")
        assert_type(images.encode_png(pixels), bytes)
        writer.write(images.image_summary("drawn", pixels), step=2)
        writer.flush()


def read_run(logdir: str) -> float:
    """Read the run back in the ways a user would; return the last loss."""
    runs = reader.list_runs(logdir)
    assert_type(runs, dict[str, list[str]])
    events = reader.iter_logdir(logdir)
    assert_type(events, Iterator[tuple[str, event_pb2.Event]])
    columns = reader.scalars(logdir, as_frame=False)
    assert_type(columns, dict[str, np.ndarray])
    histograms = reader.histograms(logdir, tags=["weights"], as_frame=False)
    assert_type(histograms["value"], np.ndarray)
    table = reader.table(logdir, "scalars", as_frame=False, on_corrupt="warn")
    assert_type(table, dict[str, np.ndarray])
    assert_type(testing.read_events(logdir), list[event_pb2.Event])
    loss = columns["value"][columns["tag"] == "loss"]
    return float(loss[-1])


def main(argv: list[str]) -> int:
    """Write and read back a run in ``argv[1]``."""
    write_run(argv[1])
    last = read_run(argv[1])
    assert abs(last - 1 / 3) < 1e-6, last
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
