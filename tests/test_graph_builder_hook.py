"""The tbcore_graph_builder hook: a third-party framework adds its own graph builder."""

from __future__ import annotations

import threading

import tbcore
from tbcore import SummaryWriter, adapters
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


class _Model:
    """A model type of its own per test, so that no other test has cached a builder for it."""


class _ChangingPlugins:
    """Finds the builder for ``_Model``, while (as another thread could) the plugins change during the call."""

    def __init__(self) -> None:
        self.calls = 0

    @tbcore.hookimpl
    def tbcore_graph_builder(self, model):
        if not isinstance(model, _Model):
            return None
        self.calls += 1
        if self.calls == 1:
            adapters.clear_cache()  # what registering or removing a plugin does
        return BUILDER


def test_a_builder_found_while_plugins_change_is_not_cached(fresh_plugins):
    plugin = _ChangingPlugins()
    fresh_plugins.register(plugin, name="changing")
    assert [adapters.graph_builder_for(_Model()) for _ in range(3)] == [BUILDER] * 3
    assert plugin.calls == 2  # asked again after the change, then cached


def test_graph_builders_and_adapters_from_many_threads(fresh_plugins):
    """Lookups of both caches race with clear_cache (bounded: 8 threads, 200 lookups each): every answer is right."""
    fresh_plugins.register(PipelinePlugin(), name="pipeline")
    errors, start = [], threading.Barrier(9)

    def look_up() -> None:
        start.wait(30)
        try:
            for _ in range(200):
                assert adapters.graph_builder_for(Pipeline("a")) is BUILDER
                assert adapters.adapter_for(list).name == "numpy"
        except Exception as exc:  # noqa: BLE001 - collected and reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=look_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    start.wait(30)
    for _ in range(50):
        adapters.clear_cache()
    for thread in threads:
        thread.join(60)
    assert not errors and not any(thread.is_alive() for thread in threads)
    assert adapters.graph_builder_for(Pipeline("a")) is BUILDER
