"""The tbcore_graph_builder hook: a third-party framework adds its own graph builder."""

from __future__ import annotations

import tbcore
from tbcore import SummaryWriter
from tbcore.graph import GraphNode, graph_encoded
from tbcore.testing import tensorboard_accumulator


class Pipeline:
    """A toy 'framework' model: a chain of named steps."""

    def __init__(self, *steps: str) -> None:
        self.steps = steps


class PipelinePlugin:
    calls = 0

    @tbcore.hookimpl
    def tbcore_graph_builder(self, model):
        PipelinePlugin.calls += 1
        return BUILDER if isinstance(model, Pipeline) else None


def build(model, example_inputs, **options):
    nodes, previous = [], []
    for step in model.steps:
        nodes.append(GraphNode(f"pipeline/{step}", step.title(), previous, [[-1, 3]], "float32"))
        previous = [f"pipeline/{step}"]
    return graph_encoded(nodes)


BUILDER = tbcore.GraphBuilder(name="pipeline", build=build)


def test_hook_tbcore_graph_builder(logdir, fresh_plugins):
    fresh_plugins.register(PipelinePlugin(), name="pipeline")
    with SummaryWriter(logdir) as writer:
        writer.add_graph(Pipeline("load", "scale"))
        writer.add_graph(Pipeline("load", "scale", "save"))
    assert PipelinePlugin.calls == 1  # asked once per type, then cached
    nodes = {n.name: n for n in tensorboard_accumulator(logdir).Graph().node}
    assert list(nodes) == ["pipeline/load", "pipeline/scale", "pipeline/save"]
    assert nodes["pipeline/save"].op == "Save" and list(nodes["pipeline/save"].input) == ["pipeline/scale"]
    assert [d.size for d in nodes["pipeline/load"].attr["_output_shapes"].list.shape[0].dim] == [-1, 3]
