"""torch models in the graph dashboard: compared node by node with torch.utils.tensorboard's graph."""

from __future__ import annotations

import re

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
pytorch_graph = pytest.importorskip("torch.utils.tensorboard._pytorch_graph")

from tbcore import SummaryWriter  # noqa: E402
from tbcore.testing import read_events, tensorboard_accumulator  # noqa: E402


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x))


class TwoInputs(nn.Module):
    """Submodules nested three levels deep (Sequential > Block > Linear) and two inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Sequential(Block(), Block())
        self.side = nn.Linear(3, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x, y):
        return self.head(self.enc(x) + self.side(y))


class Branchy(nn.Module):
    """Data-dependent control flow: torch.export cannot capture it, tracing records the path taken."""

    def __init__(self, as_dict: bool = False) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.as_dict = as_dict

    def forward(self, x):
        h = self.fc(x)
        if h.sum() > -1e9:
            h = torch.relu(h)
        return {"out": h} if self.as_dict else h


def sequential():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def shapes(node):
    return [[d.size for d in s.dim] for s in node.attr["_output_shapes"].list.shape]


def canonical(graph):
    """Each aten node as (scope, op, output shapes, sources), sources named independently of debug names."""
    by_name = {n.name: n for n in graph.node}
    ops = [n for n in graph.node if n.op.startswith("aten::")]
    index = {n.name: i for i, n in enumerate(ops)}

    def source(name):
        name = name.split(":")[0]
        node = by_name.get(name)
        if name in index:
            return ("op", index[name])
        if node is None or node.op == "prim::Constant":
            return None
        if node.op == "IO Node":
            return ("input", re.sub(r"\.\d+$", "", name))
        return ("param", name.rsplit("/", 1)[0])

    return [(n.name.rsplit("/", 1)[0], n.op, shapes(n), [s for s in map(source, n.input) if s]) for n in ops]


def io_nodes(graph):
    return sorted((re.sub(r"\.\d+$", "", n.name), shapes(n)) for n in graph.node if n.name.startswith("input/"))


def written_graph(logdir, model, inputs, **options):
    with SummaryWriter(logdir) as writer:
        writer.add_graph(model, inputs, **options)
    return tensorboard_accumulator(logdir).Graph()


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
@pytest.mark.parametrize(
    ("make", "inputs"),
    [
        (sequential, (torch.randn(2, 3),)),
        (TwoInputs, (torch.randn(2, 4), torch.randn(2, 3))),
        (Branchy, (torch.randn(2, 3),)),
    ],
    ids=["sequential", "nested-two-inputs", "fallback-to-trace"],
)
def test_same_nodes_as_torch(logdir, make, inputs):
    torch.manual_seed(0)
    model = make()
    ours = written_graph(logdir, model, inputs)
    theirs, _ = pytorch_graph.graph(model, inputs)
    assert canonical(ours) == canonical(theirs)
    assert io_nodes(ours) == io_nodes(theirs)
    (out,) = [n for n in ours.node if n.name.startswith("output/")]
    (their_out,) = [n for n in theirs.node if n.name.startswith("output/")]
    assert (out.name, out.op, shapes(out)) == (their_out.name, their_out.op, shapes(their_out))
    assert ours.versions.producer == theirs.versions.producer == 22


def test_nested_scopes_and_parameters(logdir):
    graph = written_graph(logdir, TwoInputs(), (torch.randn(2, 4), torch.randn(2, 3)))
    nodes = {n.name: n for n in graph.node}
    assert "Net" not in nodes
    weight = nodes["TwoInputs/Sequential[enc]/Block[1]/Linear[fc]/weight/weight"]
    assert weight.op == "prim::GetAttr" and shapes(weight) == [[4, 4]]
    (linear,) = [n for n in graph.node if n.name.startswith("TwoInputs/Sequential[enc]/Block[1]/Linear[fc]/linear")]
    assert linear.op == "aten::linear" and weight.name in linear.input
    assert linear.attr["dtype"].type == 1  # DT_FLOAT


def test_step1_run_metadata_as_torch(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_graph(sequential(), torch.randn(1, 3))
    tagged = [e.tagged_run_metadata for e in read_events(logdir) if e.HasField("tagged_run_metadata")]
    assert [t.tag for t in tagged] == ["step1"]
    from tensorboard.compat.proto.config_pb2 import RunMetadata

    metadata = RunMetadata.FromString(tagged[0].run_metadata)
    assert [d.device for d in metadata.step_stats.dev_stats] == ["/device:CPU:0"]
    acc = tensorboard_accumulator(logdir)  # TensorBoard turns tagged run metadata into a blob tensor
    (point,) = acc.Tensors("step1")
    assert acc.SummaryMetadata("step1").plugin_data.plugin_name == "graph_tagged_run_metadata"
    served = RunMetadata.FromString(point.tensor_proto.string_val[0])
    assert [d.device for d in served.step_stats.dev_stats] == ["/device:CPU:0"]


class KeywordsAndDict(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, x, *, mask=None):
        h = self.fc(x * mask)
        return {"logits": h, "extra": (h.sum(), h.mean(dim=0))}


def test_keyword_inputs_and_nested_outputs(logdir):
    graph = written_graph(logdir, KeywordsAndDict(), {"x": torch.randn(5, 3), "mask": torch.ones(5, 3)})
    nodes = {n.name: n for n in graph.node}
    assert shapes(nodes["input/x"]) == [[5, 3]] and shapes(nodes["input/mask"]) == [[5, 3]]
    outputs = sorted((n.name, shapes(n)) for n in graph.node if n.name.startswith("output/"))
    assert [s for _, s in outputs] == [[[5, 2]], [[]], [[2]]]  # flattened: logits, extra[0], extra[1]
    assert all(nodes[n].input for n, _ in outputs)


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
def test_fallback_verbose_and_use_strict_trace(logdir, capsys):
    model = Branchy(as_dict=True)
    with SummaryWriter(logdir) as writer:
        with pytest.raises(
            ValueError,
            match=r"could not build the graph of Branchy on \(torch\.Tensor of shape \(2, 3\).*"
            r"torch\.jit\.trace failed with RuntimeError: Encountering a dict at the output",
        ):
            writer.add_graph(model, torch.randn(2, 3))
        writer.add_graph(model, torch.randn(2, 3), verbose=True, use_strict_trace=False)
    printed = capsys.readouterr().out
    assert "built with torch.jit.trace (torch.export failed with" in printed
    assert "aten::linear" in printed
    graph = tensorboard_accumulator(logdir).Graph()
    scopes = {n.name.rsplit("/", 1)[0] for n in graph.node if n.op.startswith("aten")}
    assert scopes == {"Branchy/Linear[fc]", "Branchy"}
    (weight,) = [n for n in graph.node if n.name.startswith("Branchy/Linear[fc]/weight/")]
    assert shapes(weight) == [[3, 3]] and weight.attr["dtype"].type == 1


def test_export_path_is_verbose_about_itself(logdir, capsys):
    written_graph(logdir, sequential(), torch.randn(1, 3), verbose=True)
    assert "built with torch.export" in capsys.readouterr().out


def test_training_mode_is_restored(logdir):
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.BatchNorm1d(3))
    model.train()
    graph = written_graph(logdir, model, torch.randn(4, 3))
    assert model.training and all(m.training for m in model.modules())
    (dropout,) = [n for n in graph.node if n.op == "aten::dropout"]
    assert b"train : False" in dropout.attr["attr"].s  # traced in eval mode, as torch does


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
def test_exported_program_and_jit_modules(logdir):
    """An ExportedProgram draws as its module does; traced and scripted modules (no get_submodule) draw too."""
    torch.manual_seed(0)
    model, inputs = TwoInputs().eval(), (torch.randn(2, 4), torch.randn(2, 3))
    ours = written_graph(logdir / "module", model, inputs)
    program = written_graph(logdir / "program", torch.export.export(model, inputs), None)
    assert [(n.name, n.op, list(n.input), shapes(n)) for n in program.node] == [
        (n.name, n.op, list(n.input), shapes(n)) for n in ours.node
    ]
    assert canonical(written_graph(logdir / "traced", torch.jit.trace(model, inputs), inputs)) == canonical(ours)
    scripted = canonical(written_graph(logdir / "scripted", torch.jit.script(model), inputs))
    # a script graph has no scopes for its ops; ops, shapes (from a run), edges and parameter scopes are the same
    assert [entry[1:] for entry in scripted] == [entry[1:] for entry in canonical(ours)]


class Masked(nn.Module):
    """Control flow TorchScript keeps (an if on a tensor), an optional keyword input and a float64 output."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)

    def forward(self, x, mask: torch.Tensor | None = None):
        h = self.fc(x)
        if bool(h.sum() > 0):
            h = h * 2
        if mask is not None:
            h = h * mask
        return torch.relu(h).unsqueeze(0).to(torch.float64)


def aten_shapes(graph):
    return [(n.op, shapes(n), n.attr["dtype"].type) for n in graph.node if n.op.startswith("aten::")]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit.script is deprecated in torch 2.13
def test_torchscript_modules_get_the_shapes_of_the_example_inputs(logdir):
    """Scripted modules (no shapes in their graph) and modules traced on other inputs: shapes of a run on these."""
    torch.manual_seed(0)
    scripted = written_graph(logdir / "scripted", torch.jit.script(Masked()), torch.randn(5, 3))
    assert aten_shapes(scripted) == [
        ("aten::linear", [[5, 4]], 1),  # DT_FLOAT
        ("aten::sum", [[]], 1),
        ("aten::gt", [[]], 10),  # DT_BOOL
        ("aten::Bool", [], 0),  # not tensors: no shape, as in torch's own graphs
        ("aten::__isnot__", [], 0),
        ("aten::relu", [[5, 4]], 1),  # the output of the if: the ops in its blocks are not drawn
        ("aten::unsqueeze", [[1, 5, 4]], 1),
        ("aten::to", [[1, 5, 4]], 2),  # DT_DOUBLE
    ]
    io = {n.name: shapes(n) for n in scripted.node if n.op == "IO Node"}
    assert io == {"input/x.1": [[5, 3]], "input/mask.1": [], "output/output.1": [[1, 5, 4]]}  # no mask given
    inputs = {"x": torch.randn(2, 3), "mask": torch.ones(4)}
    keyword = written_graph(logdir / "keyword", torch.jit.script(Masked()), inputs)
    io = {n.name: shapes(n) for n in keyword.node if n.op == "IO Node"}
    assert io == {"input/x.1": [[2, 3]], "input/mask.1": [[4]], "output/output.1": [[1, 2, 4]]}
    traced = torch.jit.trace(sequential(), torch.randn(7, 3))
    assert [s for _, s, _ in aten_shapes(written_graph(logdir / "traced", traced, torch.randn(2, 3)))] == [
        [[2, 4]],
        [[2, 4]],
        [[2, 2]],
    ]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_shapes_are_left_out_if_the_graph_cannot_be_run(logdir, monkeypatch):
    """The run uses private TorchScript API: where it fails, the graph is drawn without shapes, as torch draws it."""
    scripted = torch.jit.script(sequential())
    monkeypatch.setattr(torch._C, "_create_function_from_graph", None)
    graph = written_graph(logdir, scripted, torch.randn(2, 3))
    assert [(op, s) for op, s, _ in aten_shapes(graph)] == [
        ("aten::linear", []),
        ("aten::relu", []),
        ("aten::linear", []),
    ]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit.script is deprecated in torch 2.13
def test_scripted_module_is_drawn_from_its_own_graph(logdir, capsys):
    """A TorchScript module is already a graph: tbcore neither tries torch.export on it nor traces it again."""
    with SummaryWriter(logdir) as writer:
        writer.add_graph(torch.jit.script(sequential()), torch.randn(2, 3), verbose=True)
    out = capsys.readouterr().out
    assert "was built with its own TorchScript graph (a TorchScript module is not traced again)" in out
    assert "torch.export failed" not in out and "torch.jit.trace" not in out
    assert any(node.op == "aten::linear" for node in tensorboard_accumulator(logdir).Graph().node)
