"""The plugin registry: entry points, clashes, broken plugins, switches, adapter order, every hook."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from tensorboard.compat.proto.types_pb2 import DT_DOUBLE, DT_FLOAT
from tensorboard.util import tensor_util

import tbcore
from tbcore import SummaryWriter, plugins
from tbcore.errors import SummaryTypeConflict, UnknownSummaryType
from tbcore.testing import read_events, tensorboard_accumulator
from tbplugins import scalar

pytestmark = pytest.mark.core


@pytest.fixture
def fake_dist(fresh_plugins, tmp_path, monkeypatch):
    """Install a fake distribution on sys.path: ``fake_dist(name, {ep: "module"}, {"module": "source"})``."""

    def install(dist: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
        root = tmp_path / f"site-{dist}"
        info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text(f"[tbcore]\n{lines}")
        for module, source in modules.items():
            (root / f"{module}.py").write_text(textwrap.dedent(source))
        monkeypatch.syspath_prepend(str(root))
        plugins.reset()

    return install


SQUARE = """
    import numpy as np
    import tbcore

    def encode(tag, value):
        return tbcore.tensor_summary(tag, np.square(value), plugin_name="square")

    @tbcore.hookimpl
    def tbcore_summary_types():
        return [tbcore.SummaryType(name="square", plugin_name="square", encode=encode)]
"""


class _Provides:
    def __init__(self, *names: str) -> None:
        self.names = names

    @tbcore.hookimpl
    def tbcore_summary_types(self):
        return [tbcore.SummaryType(name=n, plugin_name="x", encode=lambda tag, value: None) for n in self.names]


def test_hook_tbcore_summary_types(fake_dist, logdir):
    fake_dist("tbcore-square", {"square": "tbcore_square_plugin"}, {"tbcore_square_plugin": SQUARE})
    assert plugins.plugin_infos()["square"].distribution == "tbcore-square"
    with SummaryWriter(logdir) as writer:
        writer.add("square", "sq", [1.0, 2.0, 3.0], step=2)
    acc = tensorboard_accumulator(logdir)
    assert acc.summary_metadata["sq"].plugin_data.plugin_name == "square"
    assert tbcore.tensor_to_numpy(acc.Tensors("sq")[0].tensor_proto).tolist() == [1.0, 4.0, 9.0]


def test_name_clash_names_both_providers(fresh_plugins):
    plugins.register(_Provides("dup"), "first_provider")
    plugins.register(_Provides("dup"), "second_provider")
    with pytest.raises(SummaryTypeConflict, match=r"'dup'.*'first_provider' and 'second_provider'"):
        plugins.summary_types()


def test_clash_with_a_builtin(fake_dist):
    evil = SQUARE.replace('"square"', '"text"')
    fake_dist("tbcore-evil", {"evil": "tbcore_evil_plugin"}, {"tbcore_evil_plugin": evil})
    expected = r"'text'.*'evil' and 'text'.*TBCORE_BLOCK_PLUGINS=evil or TBCORE_BLOCK_PLUGINS=text"
    with pytest.raises(SummaryTypeConflict, match=expected):
        plugins.summary_types()


def test_broken_entry_point_warns_and_is_named_later(fake_dist, logdir):
    broken = {"tbcore_broken_plugin": "raise ImportError('no gpu')"}
    fake_dist("tbcore-broken", {"broken": "tbcore_broken_plugin"}, broken)
    expected = r"'broken' \(tbcore_broken_plugin, from tbcore-broken\).*no gpu"
    with pytest.warns(tbcore.TbcorePluginWarning, match=expected):
        plugins.get_plugin_manager()
    with SummaryWriter(logdir) as writer:
        expected = r"failed to load: broken \(from tbcore-broken: ImportError: no gpu\)"
        with pytest.raises(UnknownSummaryType, match=expected):
            writer.add("broken_kind", "t", 1.0)
        writer.add_scalar("still", 1.0, 0)  # the built-ins still work
    assert [e.step for e in tensorboard_accumulator(logdir).Tensors("still")] == [0]


def test_unknown_kind_lists_installed_and_suggests(fresh_plugins, logdir):
    with SummaryWriter(logdir) as writer:
        expected = r"got 'histgram'\. Did you mean 'histogram'.*Installed: .*scalar"
        with pytest.raises(UnknownSummaryType, match=expected):
            writer.add("histgram", "h", [1.0])
        with pytest.raises(ValueError, match=r"kind: expected one of the installed summary types, got 3"):
            writer.add(3, "h", [1.0])
        writer.add("histogram", "h", [1.0], step=1)
    assert len(read_events(logdir)) == 2
    acc = tensorboard_accumulator(logdir)
    assert acc.Tags()["tensors"] == ["h"] and [e.step for e in acc.Tensors("h")] == [1]


def test_disable_autoload_keeps_only_builtins(fake_dist, monkeypatch):
    fake_dist("tbcore-square", {"square": "tbcore_square_plugin"}, {"tbcore_square_plugin": SQUARE})
    monkeypatch.setenv("TBCORE_DISABLE_PLUGIN_AUTOLOAD", "1")
    plugins.reset()
    assert "square" not in plugins.summary_types()
    assert {"scalar", "histogram", "text", "tensor"} <= set(plugins.summary_types())
    monkeypatch.setenv("TBCORE_DISABLE_PLUGIN_AUTOLOAD", "0")
    plugins.reset()
    assert "square" in plugins.summary_types()


def test_block_plugins(fake_dist, monkeypatch, logdir):
    fake_dist("tbcore-square", {"square": "tbcore_square_plugin"}, {"tbcore_square_plugin": SQUARE})
    monkeypatch.setenv("TBCORE_BLOCK_PLUGINS", " square , text")
    plugins.reset()
    installed = plugins.summary_types()
    assert "square" not in installed and "text" not in installed and "scalar" in installed
    with SummaryWriter(logdir) as writer, pytest.raises(UnknownSummaryType, match="'text'"):
        writer.add_text("t", "blocked")


THIRD_PARTY_LIST_ADAPTER = """
    import numpy as np
    import tbcore

    ADAPTER = tbcore.ArrayAdapter(name="lists-as-float32", to_numpy=lambda v: np.asarray(v, dtype=np.float32) * 2)

    @tbcore.hookimpl
    def tbcore_array_adapter(cls):
        return ADAPTER if issubclass(cls, list) else None
"""


def test_hook_tbcore_array_adapter(fake_dist):
    """A third-party firstresult adapter wins over the built-in numpy fallback (trylast)."""
    assert tbcore.as_numpy([1, 2]).dtype != np.float32
    fake_dist("tbcore-lists", {"lists": "lists_plugin"}, {"lists_plugin": THIRD_PARTY_LIST_ADAPTER})
    array = tbcore.as_numpy([1, 2])
    assert array.dtype == np.float32 and array.tolist() == [2.0, 4.0]
    assert tbcore.as_numpy((1, 2)).tolist() == [1, 2]  # tuples still go to numpy's adapter


class _Model:
    pass


class _GraphPlugin:
    @tbcore.hookimpl
    def tbcore_graph_builder(self, model):
        if not isinstance(model, _Model):
            return None
        encoded = tbcore.Encoded(graph_def=b"\x0a\x00")
        return tbcore.GraphBuilder(name="fake", build=lambda model, inputs, **options: encoded)


def test_hook_tbcore_graph_builder(fresh_plugins, logdir):
    plugins.register(_GraphPlugin(), "fake_graphs")
    with SummaryWriter(logdir) as writer:
        writer.add_graph(_Model())
    graphs = [e.graph_def for e in read_events(logdir) if e.HasField("graph_def")]
    assert graphs == [b"\x0a\x00"]
    assert len(tensorboard_accumulator(logdir).Graph().node) == 1  # TensorBoard reads the one (empty) node


def test_register_twice_and_unregister(fresh_plugins):
    plugin = _Provides("once")
    plugins.register(plugin, "once")
    with pytest.raises(ValueError, match="already registered"):
        plugins.register(plugin, "once")
    assert "once" in plugins.summary_types()
    plugins.unregister("once")
    assert "once" not in plugins.summary_types()


class _Readings:
    """A plugin whose types name their value after the encoder (derived) or explicitly (overridden)."""

    @staticmethod
    def encode(tag, readings, *, scale=1.0):
        return tbcore.tensor_summary(tag, np.asarray(readings) * scale, plugin_name="readings")

    @tbcore.hookimpl
    def tbcore_summary_types(self):
        return [
            tbcore.SummaryType(name="readings", plugin_name="readings", encode=self.encode),
            tbcore.SummaryType(name="gauges", plugin_name="readings", encode=self.encode, value_name="gauge_values"),
        ]


def test_value_name_derived_from_the_encoder_or_given(fresh_plugins, logdir):
    plugins.register(_Readings(), "readings")
    types = plugins.summary_types()
    assert types["readings"][0].value_name == "readings"  # encode's second parameter
    assert types["gauges"][0].value_name == "gauge_values"  # an explicit value_name wins
    assert tbcore.SummaryType(name="v", plugin_name="v", encode=lambda tag, *values: None).value_name == "value"
    assert tbcore.SummaryType(name="v", plugin_name="v", encode=max).value_name == "value"  # no signature
    with SummaryWriter(logdir) as writer:
        with pytest.raises(TypeError, match=r"^readings: expected a numpy array"):
            writer.add("readings", "r", object())
        with pytest.raises(TypeError, match=r"^gauge_values: expected a numpy array"):
            writer.add("gauges", "g", object())
        writer.add("readings", "r", [1.0, 2.0], step=1, scale=2.0)
    assert tbcore.tensor_to_numpy(tensorboard_accumulator(logdir).Tensors("r")[0].tensor_proto).tolist() == [2.0, 4.0]


class _Float64Scalars:
    """Replaces the built-in ``scalar`` module: new-style scalars as float64, ``add_scalars`` runs ``<run>_v2``."""

    @tbcore.hookimpl
    def tbcore_summary_types(self):
        def encode(tag, value, *, new_style=False):
            return tbcore.tensor_summary(tag, np.float64(tbcore.as_float(value)), plugin_name="scalars")

        def encode_many(tag, values, *, same_run=False):
            records = scalar.encode_many(tag, values, same_run=same_run)
            return [tbcore.Encoded(summary=record.summary, run=f"{record.run}_v2") for record in records]

        return [
            tbcore.SummaryType(name="scalar", plugin_name="scalars", encode=encode, adapt_value=False),
            tbcore.SummaryType(name="scalars", plugin_name="scalars", encode=encode_many, adapt_value=False),
        ]


def test_a_writer_forgets_what_it_learned_from_types_that_were_replaced(fresh_plugins, logdir):
    """The scalar forms and add_scalars sub-runs a writer learned follow a change of the plugins made after."""
    writer = SummaryWriter(logdir)
    writer.add_scalar("x", 1.0, 0, new_style=True)  # learns the float32 form of "x"
    writer.add_scalars("m", {"a": 1.0}, 0)  # learns the sub-run of key "a"
    fresh_plugins.unregister("scalar")
    fresh_plugins.register(_Float64Scalars(), "float64_scalars")
    writer.add_scalar("x", 2.0, 1, new_style=True)
    writer.add_scalars("m", {"a": 2.0}, 1)
    writer.close()
    protos = [event.tensor_proto for event in tensorboard_accumulator(logdir).Tensors("x")]
    assert [(p.dtype, tensor_util.make_ndarray(p).item()) for p in protos] == [(DT_FLOAT, 1.0), (DT_DOUBLE, 2.0)]
    assert [e.step for e in tensorboard_accumulator(logdir / "m_a").Tensors("m")] == [0]
    assert [e.step for e in tensorboard_accumulator(logdir / "m_a_v2").Tensors("m")] == [1]
