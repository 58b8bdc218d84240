"""add_image_with_boxes and add_figure, read back through TensorBoard and decoded with PIL."""

from __future__ import annotations

import numpy as np
import pytest

from media_helpers import decoded_image, modules_after, pixels, rejected_then_usable
from tbcore import SummaryWriter, summary

RED = [255, 0, 0]


def boxed(logdir, image, boxes, **options):
    with SummaryWriter(logdir) as writer:
        writer.add_image_with_boxes("b", image, boxes, 0, **options)
    return pixels(decoded_image(logdir, "b"))


def test_boxes_are_drawn_in_red(logdir):
    image = np.zeros((3, 40, 50), dtype=np.float32)
    got = boxed(logdir, image, np.array([[10, 5, 30, 25]]))
    assert got.shape == (40, 50, 3)
    assert got[5, 20].tolist() == RED and got[25, 20].tolist() == RED  # top and bottom edges
    assert got[15, 10].tolist() == RED and got[15, 30].tolist() == RED  # left and right edges
    assert got[15, 20].tolist() == [0, 0, 0] and got[35, 45].tolist() == [0, 0, 0]


def test_labels_are_rendered(logdir):
    image = np.zeros((1, 60, 80), dtype=np.uint8)  # grey input: drawn in colour
    boxes = np.array([[10, 30, 60, 55], [5, 2, 20, 20]])
    plain = boxed(logdir / "plain", image, boxes)
    labelled = boxed(logdir / "labelled", image, boxes, labels=["cat", "dog"])
    changed = np.any(plain != labelled, axis=2)
    assert changed[15:30, 10:40].any()  # the first label sits above its box
    assert (labelled.min(axis=2) > 128).any()  # light text on the red band


def test_rescale_and_torch_like_size(logdir):
    got = boxed(logdir, np.ones((3, 40, 60)), np.zeros((0, 4)), rescale=0.5)
    assert got.shape == (20, 30, 3)


def test_pure_encoder():
    proto = summary.image_with_boxes("b", np.zeros((3, 8, 8)), [[1, 1, 5, 5]], labels="one")
    assert proto.value[0].image.width == 8


@pytest.mark.parametrize(
    ("boxes", "options", "error", "match"),
    [
        (np.zeros((4,)), {}, ValueError, r"box_tensor: expected shape \(N, 4\).*got numpy.ndarray of shape \(4,\)"),
        (np.zeros((2, 5)), {}, ValueError, r"box_tensor: expected shape \(N, 4\)"),
        (np.array([[0, 0, np.nan, 1]]), {}, ValueError, r"box_tensor: expected finite coordinates"),
        (np.array([["a", "b", "c", "d"]]), {}, TypeError, r"box_tensor: expected an \(N, 4\) array of real numbers"),
        (None, {}, TypeError, r"box_tensor: expected an \(N, 4\) array"),
        (np.zeros((2, 4)), {"labels": ["one"]}, ValueError, r"labels: expected one label per box \(2\), got 1 labels"),
        (np.zeros((1, 4)), {"labels": 5}, TypeError, r"labels: expected a list of str"),
        (np.zeros((1, 4)), {"rescale": 0}, ValueError, r"rescale: expected a finite number > 0"),
        (np.zeros((1, 4)), {"rescale": "2"}, TypeError, r"rescale: expected a number > 0"),
    ],
)
def test_bad_boxes(logdir, boxes, options, error, match):
    rejected_then_usable(
        logdir,
        error,
        match,
        bad=lambda writer: writer.add_image_with_boxes("bad", np.zeros((3, 8, 8)), boxes, 0, **options),
        good=lambda writer: writer.add_image_with_boxes("good", np.zeros((3, 8, 8)), np.zeros((1, 4)), 1),
    )


@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot

    yield matplotlib.pyplot
    matplotlib.pyplot.close("all")


def make_figure(plt, value=1.0, transparent=False):
    figure = plt.figure(figsize=(2, 1.5), dpi=50)
    plt.plot([0, 1, 2], [0, value, 0])
    if transparent:
        figure.patch.set_alpha(0.0)
    return figure


def test_figure_pixels_are_the_agg_buffer(logdir, plt):
    figure = make_figure(plt)
    figure.canvas.draw()
    expected = np.asarray(figure.canvas.buffer_rgba())[:, :, :3].copy()
    with SummaryWriter(logdir) as writer:
        writer.add_figure("f", figure, 0, close=False)
    np.testing.assert_array_equal(pixels(decoded_image(logdir, "f")), expected)
    assert plt.fignum_exists(figure.number)


def test_close_is_honoured_and_lists_make_a_grid(logdir, plt):
    figures = [make_figure(plt, v) for v in (1.0, 2.0, 3.0)]
    with SummaryWriter(logdir) as writer:
        writer.add_figure("f", figures, 0)
    assert not any(plt.fignum_exists(f.number) for f in figures)
    image = decoded_image(logdir, "f")
    assert image.size == (3 * 100, 75) and image.mode == "RGB"


def test_transparent_figure_keeps_alpha(logdir, plt):
    with SummaryWriter(logdir) as writer:
        writer.add_figure("f", make_figure(plt, transparent=True), 0)
    assert decoded_image(logdir, "f").mode == "RGBA"


def test_figure_with_a_non_agg_canvas_keeps_its_canvas(logdir, plt):
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1), dpi=40)
    canvas = FigureCanvasBase(figure)
    figure.add_subplot().plot([1, 2])
    assert summary.figure("f", figure).value[0].image.width == 40
    assert figure.canvas is canvas


def test_figures_matches_torch(logdir, plt):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    from tbcore.testing import tensorboard_accumulator

    with torch_tb.SummaryWriter(str(logdir / "torch")) as writer:
        writer.add_figure("f", make_figure(plt), 0)
    with SummaryWriter(logdir / "ours") as writer:
        writer.add_figure("f", make_figure(plt), 0)
    assert tensorboard_accumulator(logdir / "torch").Tags()["tensors"] == ["f"]
    np.testing.assert_array_equal(
        pixels(decoded_image(logdir / "ours", "f")), pixels(decoded_image(logdir / "torch", "f"))
    )


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        ("axes", TypeError, r"figure: expected a matplotlib.figure.Figure or a non-empty list of them, got matplotlib"),
        ([], ValueError, r"figure: expected a matplotlib.figure.Figure or a non-empty list"),
        (np.zeros((3, 4, 4)), TypeError, r"figure: expected a matplotlib.figure.Figure"),
        ("sizes", ValueError, r"figure: expected figures of one size"),
    ],
)
def test_bad_figures(logdir, plt, value, error, match):
    if isinstance(value, str) and value == "axes":
        value = make_figure(plt).gca()
    elif isinstance(value, str):
        value = [make_figure(plt), plt.figure(figsize=(1, 1), dpi=50)]
    rejected_then_usable(
        logdir,
        error,
        match,
        bad=lambda writer: writer.add_figure("bad", value, 0),
        good=lambda writer: writer.add_figure("good", make_figure(plt), 1),
    )


def test_no_matplotlib_import_unless_a_figure_is_passed():
    code = "import tbcore.summary\ntry:\n    tbcore.summary.figure('f', object())\nexcept TypeError as e:\n    print(e)"
    modules, lines = modules_after(code)
    assert modules == "[]" and lines[0].startswith("figure: expected a matplotlib.figure.Figure")
