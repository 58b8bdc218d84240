"""A real tensorboard server (both loaders) shows scalars, histograms, distributions and text over HTTP."""

from __future__ import annotations

import numpy as np
import pytest

from tbcore import SummaryWriter
from tbcore.testing import TensorBoardServer

pytestmark = [pytest.mark.core, pytest.mark.server, pytest.mark.slow]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("served")
    with SummaryWriter(logdir) as writer:
        for step in range(3):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            writer.add_scalar("acc", step / 10, step, new_style=True)
            writer.add_scalar("lr", 0.25 * step, step, double_precision=True)
            writer.add_histogram("weights", np.arange(100.0) + step, step)
        writer.add_scalars("multi", {"a": 1.0, "b": 2.0}, 0)
        writer.add_text("notes", "**bold** and `code`", 1)
    return logdir


@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_everything_over_http(written, load_fast):
    with TensorBoardServer(written, load_fast=load_fast) as server:
        environment = server.get_json("/data/environment")
        provider = "GrpcDataProvider" if load_fast == "true" else "MultiplexerDataProvider"
        assert provider in environment["debug"]["data_provider"]

        tags = server.wait_for("/data/plugin/scalars/tags", lambda d: {"loss", "acc", "lr"} <= set(d.get(".", {})))
        assert {"loss", "acc", "lr"} <= set(tags["."])
        for tag, expected in (("loss", [1.0, 0.5, 1 / 3]), ("acc", [0.0, 0.1, 0.2]), ("lr", [0.0, 0.25, 0.5])):
            rows = server.wait_for("/data/plugin/scalars/scalars", lambda d: len(d) == 3, run=".", tag=tag)
            assert [row[1] for row in rows] == [0, 1, 2]
            assert [row[2] for row in rows] == pytest.approx(expected, rel=1e-6)
        runs = server.wait_for("/data/runs", lambda r: {"multi_a", "multi_b"} <= set(r))
        assert "." in runs
        multi = server.get_json("/data/plugin/scalars/scalars", run="multi_b", tag="multi")
        assert [row[1:] for row in multi] == [[0, 2.0]]

        histograms = server.wait_for(
            "/data/plugin/histograms/histograms", lambda d: len(d) == 3, run=".", tag="weights"
        )
        assert [h[1] for h in histograms] == [0, 1, 2]
        buckets = histograms[0][2]
        assert sum(count for _left, _right, count in buckets) == pytest.approx(100)
        assert buckets[0][0] <= 0.0 and buckets[-1][1] >= 99.0

        distributions = server.get_json("/data/plugin/distributions/distributions", run=".", tag="weights")
        basis_points = [bp for bp, _value in distributions[2][2]]
        assert basis_points == [0, 668, 1587, 3085, 5000, 6915, 8413, 9332, 10000]
        values = [value for _bp, value in distributions[2][2]]
        assert values == sorted(values) and values[0] == pytest.approx(2.0, abs=0.5)
        assert values[-1] == pytest.approx(101.0, rel=0.1)

        assert server.wait_for("/data/plugin/text/tags", lambda d: d.get(".")) == {".": ["notes/text_summary"]}
        (text,) = server.get_json("/data/plugin/text/text", run=".", tag="notes/text_summary")
        assert text["step"] == 1
        # rank 0: a Markdown block, not torch's one-cell table
        assert "<strong>bold</strong>" in text["text"] and "<code>code</code>" in text["text"]
        assert "<table" not in text["text"]
