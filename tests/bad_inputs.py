"""The table of bad inputs for every ``add_*`` method and the constructor, and how a writer answers them.

Each row calls one method with a good template whose one argument is replaced by a bad
value. ``classify`` runs a row on a fresh writer and says how it was answered:
``clear`` (TypeError/ValueError naming the argument, saying what was expected and what
was given, nothing written), ``unclear`` (an error, but not such a message, or something
written), ``accepted`` (no error, nothing written) or ``garbage`` (no error, and
something written). Run ``python tests/bad_inputs.py`` for the counts (``--torch`` to
answer the same table with torch.utils.tensorboard).
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KIND = {
    "add_scalar": "scalar",
    "add_scalars": "scalars",
    "add_histogram": "histogram",
    "add_histogram_raw": "histogram_raw",
    "add_image": "image",
    "add_images": "images",
    "add_image_with_boxes": "image_with_boxes",
    "add_figure": "figure",
    "add_video": "video",
    "add_audio": "audio",
    "add_text": "text",
    "add_tensor": "tensor",
    "add_pr_curve": "pr_curve",
    "add_pr_curve_raw": "pr_curve_raw",
    "add_mesh": "mesh",
    "add_embedding": "embedding",
    "add_hparams": "hparams",
    "add_custom_scalars": "custom_scalars",
    "add_graph": "graph",
    "add_onnx_graph": "graph",
    "__init__": None,
}
TEMPLATE_NEEDS = {"add_figure": ("matplotlib",)}  # packages (not in tbcore's core) the good template needs


def _figure() -> Any:
    from matplotlib.figure import Figure  # not pyplot: nothing keeps it open after the row

    figure = Figure(figsize=(1, 1))
    figure.add_subplot().plot([0, 1])
    return figure


def good(method: str) -> dict[str, Any]:
    """Return keyword arguments of a call to ``method`` that works."""
    u8 = np.uint8
    templates: dict[str, Callable[[], dict[str, Any]]] = {
        "add_scalar": lambda: {"tag": "t", "scalar_value": 1.0, "global_step": 0},
        "add_scalars": lambda: {"main_tag": "m", "tag_scalar_dict": {"a": 1.0}, "global_step": 0},
        "add_histogram": lambda: {"tag": "t", "values": np.arange(10.0), "global_step": 0},
        "add_histogram_raw": lambda: {
            "tag": "t",
            "min": 0.0,
            "max": 9.0,
            "num": 10,
            "sum": 45.0,
            "sum_squares": 285.0,
            "bucket_limits": [3.0, 6.0, 9.0],
            "bucket_counts": [3, 3, 4],
            "global_step": 0,
        },
        "add_image": lambda: {"tag": "t", "img_tensor": np.zeros((3, 8, 8), u8), "global_step": 0},
        "add_images": lambda: {"tag": "t", "img_tensor": np.zeros((2, 3, 8, 8), u8), "global_step": 0},
        "add_image_with_boxes": lambda: {
            "tag": "t",
            "img_tensor": np.zeros((3, 8, 8), u8),
            "box_tensor": np.array([[0, 0, 4, 4]]),
            "global_step": 0,
        },
        "add_figure": lambda: {"tag": "t", "figure": _figure(), "global_step": 0},
        "add_video": lambda: {"tag": "t", "vid_tensor": np.zeros((1, 2, 3, 8, 8), u8), "global_step": 0},
        "add_audio": lambda: {
            "tag": "t",
            "snd_tensor": np.zeros(100, np.float32),
            "sample_rate": 8000,
            "global_step": 0,
        },
        "add_text": lambda: {"tag": "t", "text_string": "hello", "global_step": 0},
        "add_tensor": lambda: {"tag": "t", "tensor": np.arange(3.0), "global_step": 0},
        "add_pr_curve": lambda: {
            "tag": "t",
            "labels": np.array([0, 1, 1, 0]),
            "predictions": np.array([0.1, 0.9, 0.8, 0.3]),
            "global_step": 0,
        },
        "add_pr_curve_raw": lambda: {
            "tag": "t",
            "true_positive_counts": [2, 2, 1],
            "false_positive_counts": [2, 1, 0],
            "true_negative_counts": [0, 1, 2],
            "false_negative_counts": [0, 0, 1],
            "precision": [0.5, 0.66, 1.0],
            "recall": [1.0, 1.0, 0.5],
            "num_thresholds": 3,
            "global_step": 0,
        },
        "add_mesh": lambda: {
            "tag": "t",
            "vertices": np.zeros((1, 3, 3)),
            "colors": np.zeros((1, 3, 3), u8),
            "faces": np.array([[[0, 1, 2]]]),
            "global_step": 0,
        },
        "add_embedding": lambda: {"mat": np.zeros((3, 2)), "metadata": ["a", "b", "c"], "tag": "e", "global_step": 0},
        "add_hparams": lambda: {"hparam_dict": {"lr": 0.1}, "metric_dict": {"m": 1.0}},
        "add_custom_scalars": lambda: {"layout": {"cat": {"title": ["Multiline", ["loss"]]}}},
        "add_graph": lambda: {"model": None},
        "add_onnx_graph": lambda: {"prototxt": None},
        "__init__": lambda: {},
    }
    return templates[method]()


@dataclass(frozen=True)
class Row:
    """One bad call: ``method(**good(method) | bad)``; the error must name ``argument``."""

    method: str
    bad: dict[str, Any] = field(hash=False)
    argument: str
    note: str = ""
    needs: tuple[str, ...] = ()  # packages (not in tbcore's core) the bad value needs to reach its check

    @property
    def kind(self) -> str | None:
        return KIND[self.method]

    @property
    def id(self) -> str:
        shown = ",".join(f"{k}={_short(v)}" for k, v in self.bad.items())
        return f"{self.method}[{self.note or shown}]"


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape}{value.dtype}"
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


TAG_ARGUMENT = {"add_scalars": "main_tag"}
BAD_TAGS = [None, 5, "", "a\x00b", "x" * 5000, b"bytes"]
BAD_STEPS = [-1, 2**63, "3", 1.5, [1], np.float64(2.5)]
BAD_WALLTIMES = [math.nan, math.inf, -math.inf, "now"]
NO_WALLTIME = {"add_embedding", "add_hparams", "add_custom_scalars", "add_graph", "add_onnx_graph"}
NO_TAG = {"add_hparams", "add_custom_scalars", "add_graph", "add_onnx_graph", "__init__"}
NO_STEP = {"add_custom_scalars", "add_graph", "add_onnx_graph", "__init__"}

OBJECTS = np.array([object(), object()], dtype=object)
COMPLEX = np.array([1 + 2j, 3j])
STRINGS = np.array(["a", "b"])
EMPTY = np.zeros((0,))


def _common_rows() -> list[Row]:
    rows = []
    for method in KIND:
        if method not in NO_TAG:
            argument = TAG_ARGUMENT.get(method, "tag")
            rows += [Row(method, {argument: value}, argument, f"{argument}={_short(value)}") for value in BAD_TAGS]
        if method not in NO_STEP:
            rows += [Row(method, {"global_step": value}, "global_step") for value in BAD_STEPS]
        if method not in NO_WALLTIME | {"__init__"}:
            rows += [Row(method, {"walltime": value}, "walltime") for value in BAD_WALLTIMES]
    return rows


def _value_rows() -> list[Row]:
    r = Row
    return [
        # add_scalar
        *[
            r("add_scalar", {"scalar_value": v}, "scalar_value")
            for v in (
                None,
                "1.0",
                b"1",
                np.zeros(3),
                np.zeros((1, 1, 1)),
                1 + 2j,
                STRINGS[:1],
                OBJECTS[:1],
                [],
                {},
                EMPTY,
            )
        ],
        # add_scalars
        r("add_scalars", {"tag_scalar_dict": None}, "tag_scalar_dict"),
        r("add_scalars", {"tag_scalar_dict": [1.0]}, "tag_scalar_dict"),
        r("add_scalars", {"tag_scalar_dict": {"a": "x"}}, "tag_scalar_dict"),
        r("add_scalars", {"tag_scalar_dict": {"a": 1.0, "b": None}}, "tag_scalar_dict", "second value None"),
        r("add_scalars", {"tag_scalar_dict": {1: 1.0}}, "tag_scalar_dict"),
        r("add_scalars", {"tag_scalar_dict": {"": 1.0}}, "tag_scalar_dict"),
        r("add_scalars", {"tag_scalar_dict": {"a": np.zeros(3)}}, "tag_scalar_dict"),
        r("add_scalars", {"tag_scalar_dict": {"a\x00b": 1.0}}, "tag_scalar_dict"),
        r("add_scalars", {"tag_scalar_dict": {"a/../../x": 1.0}}, "tag_scalar_dict"),
        r("add_scalars", {"tag_scalar_dict": {"a//b": 1.0}}, "tag_scalar_dict"),
        # add_histogram
        *[r("add_histogram", {"values": v}, "values") for v in (None, "abc", EMPTY, COMPLEX, OBJECTS, STRINGS)],
        *[r("add_histogram", {"bins": v}, "bins") for v in ("bogus", 0, -3, [3.0, 2.0, 1.0], [1.0], None)],
        *[r("add_histogram", {"max_bins": v}, "max_bins") for v in (0, -1, "a")],
        # add_histogram_raw
        r("add_histogram_raw", {"bucket_counts": [1, 2]}, "bucket_counts", "fewer counts than limits"),
        r("add_histogram_raw", {"bucket_counts": [1, -2, 3]}, "bucket_counts", "negative count"),
        r("add_histogram_raw", {"bucket_counts": []}, "bucket_counts", "empty counts"),
        r("add_histogram_raw", {"bucket_limits": [9.0, 6.0, 3.0]}, "bucket_limits", "decreasing limits"),
        r("add_histogram_raw", {"min": 10.0}, "min", "min > max"),
        r("add_histogram_raw", {"num": -1}, "num"),
        r("add_histogram_raw", {"min": "a"}, "min"),
        r("add_histogram_raw", {"sum": None}, "sum"),
        # add_image / add_images / add_image_with_boxes
        *[
            r("add_image", {"img_tensor": v}, "img_tensor")
            for v in (None, "x", np.zeros(8), np.zeros((3, 8, 8, 1, 1)), np.zeros((3, 0, 8)), COMPLEX, OBJECTS)
        ],
        r("add_image", {"dataformats": "XYZ"}, "dataformats"),
        r("add_image", {"dataformats": 5}, "dataformats"),
        r("add_image", {"dataformats": "HWC"}, "img_tensor|dataformats", "8 channels as HWC"),
        r("add_image", {"img_tensor": np.zeros((8, 8)), "dataformats": "CHW"}, "img_tensor|dataformats", "2-d as CHW"),
        r("add_image", {"img_tensor": np.zeros((5, 8, 8))}, "img_tensor|dataformats", "5 channels"),
        r("add_images", {"img_tensor": np.zeros((3, 8, 8))}, "img_tensor|dataformats", "3-d as NCHW"),
        r("add_images", {"dataformats": "NCHWX"}, "dataformats"),
        r("add_images", {"img_tensor": np.zeros((0, 3, 8, 8))}, "img_tensor", "no images"),
        r("add_image_with_boxes", {"box_tensor": np.array([0, 0, 4, 4])}, "box_tensor", "1-d boxes"),
        r("add_image_with_boxes", {"box_tensor": np.zeros((1, 3))}, "box_tensor", "3 coordinates"),
        r("add_image_with_boxes", {"box_tensor": None}, "box_tensor"),
        r("add_image_with_boxes", {"box_tensor": "box"}, "box_tensor"),
        r("add_image_with_boxes", {"labels": ["a", "b"]}, "labels", "2 labels for 1 box"),
        r("add_image_with_boxes", {"labels": 5}, "labels"),
        # add_figure
        *[r("add_figure", {"figure": v}, "figure") for v in (None, "figure", [1, 2], np.zeros((3, 8, 8)))],
        # add_video
        *[
            r("add_video", {"vid_tensor": v}, "vid_tensor")
            for v in (None, np.zeros((2, 3, 8, 8)), np.zeros((1, 0, 3, 8, 8)), np.zeros((1, 2, 5, 8, 8)), COMPLEX)
        ],
        *[r("add_video", {"fps": v}, "fps") for v in (0, -1, "a", math.nan)],
        # add_audio
        *[
            r("add_audio", {"snd_tensor": v}, "snd_tensor")
            for v in (None, np.zeros((2, 3, 100)), EMPTY, COMPLEX, OBJECTS)
        ],
        r("add_audio", {"snd_tensor": "sound"}, "snd_tensor", needs=("soundfile",)),  # a path: read with soundfile
        *[r("add_audio", {"sample_rate": v}, "sample_rate") for v in (0, -1, "a", math.inf)],
        # add_text
        *[r("add_text", {"text_string": v}, "text_string") for v in (None, 5, object(), OBJECTS)],
        # add_tensor
        *[r("add_tensor", {"tensor": v}, "tensor") for v in (None, OBJECTS, object())],
        # add_pr_curve
        r("add_pr_curve", {"labels": np.array([0, 1])}, "labels|predictions", "length mismatch"),
        r("add_pr_curve", {"predictions": np.array([0.1, 1.5, 0.8, 0.3])}, "predictions", "prediction 1.5"),
        r("add_pr_curve", {"predictions": np.array([-0.1, 0.9, 0.8, 0.3])}, "predictions", "prediction -0.1"),
        r("add_pr_curve", {"predictions": np.array([math.nan, 0.9, 0.8, 0.3])}, "predictions", "prediction NaN"),
        r("add_pr_curve", {"labels": None}, "labels"),
        r("add_pr_curve", {"predictions": COMPLEX}, "predictions"),
        r("add_pr_curve", {"num_thresholds": 0}, "num_thresholds"),
        r("add_pr_curve", {"num_thresholds": "many"}, "num_thresholds"),
        r("add_pr_curve", {"weights": np.ones(3)}, "weights", "weights length mismatch"),
        r("add_pr_curve", {"labels": EMPTY, "predictions": EMPTY}, "labels|predictions", "empty"),
        # add_pr_curve_raw
        r("add_pr_curve_raw", {"true_positive_counts": [1, 2]}, "true_positive_counts", "2 counts, 3 thresholds"),
        r("add_pr_curve_raw", {"precision": None}, "precision"),
        r("add_pr_curve_raw", {"recall": [1.0, 1.0]}, "recall", "2 recalls, 3 thresholds"),
        r("add_pr_curve_raw", {"num_thresholds": 0}, "num_thresholds"),
        r("add_pr_curve_raw", {"false_positive_counts": STRINGS}, "false_positive_counts"),
        # add_mesh
        r("add_mesh", {"vertices": np.zeros((1, 3, 2))}, "vertices", "2 coordinates"),
        r("add_mesh", {"vertices": None}, "vertices"),
        r("add_mesh", {"vertices": np.zeros(3)}, "vertices", "1-d"),
        r("add_mesh", {"colors": np.zeros((1, 2, 3), np.uint8)}, "colors", "colors for 2 of 3 vertices"),
        r("add_mesh", {"faces": np.array([[[0, 1, 5]]])}, "faces", "face index out of range"),
        r("add_mesh", {"faces": np.array([[[0.5, 1, 2]]])}, "faces", "float faces"),
        r("add_mesh", {"config_dict": "x"}, "config_dict"),
        r("add_mesh", {"vertices": COMPLEX.reshape(1, 2, 1)}, "vertices", "complex"),
        # add_embedding
        r("add_embedding", {"metadata": ["a", "b"]}, "metadata", "2 labels for 3 rows"),
        r("add_embedding", {"mat": np.zeros(3)}, "mat", "1-d"),
        r("add_embedding", {"mat": np.zeros((3, 2, 2))}, "mat", "3-d"),
        r("add_embedding", {"mat": np.zeros((0, 2)), "metadata": None}, "mat", "no rows"),
        r("add_embedding", {"mat": COMPLEX.reshape(2, 1), "metadata": None}, "mat", "complex"),
        r("add_embedding", {"mat": None}, "mat"),
        r("add_embedding", {"label_img": np.zeros((2, 3, 4, 4))}, "label_img", "2 images for 3 rows"),
        r("add_embedding", {"label_img": np.full((3, 3, 4, 4), np.nan)}, "label_img", "NaN thumbnails"),
        r("add_embedding", {"metadata_header": ["x", "y"]}, "metadata_header", "header for 1 column"),
        r(
            "add_embedding",
            {"metadata": [["a", "b"], ["c"], ["d", "e"]], "metadata_header": ["x", "y"]},
            "metadata",
            "ragged columns",
        ),
        r("add_embedding", {"metadata": "abc"}, "metadata"),
        # add_hparams
        r("add_hparams", {"hparam_dict": None}, "hparam_dict"),
        r("add_hparams", {"hparam_dict": {"lr": [1, 2]}}, "hparam_dict", "list value"),
        r("add_hparams", {"hparam_dict": {"lr": {"a": 1}}}, "hparam_dict", "dict value"),
        r("add_hparams", {"hparam_dict": {"lr": object()}}, "hparam_dict", "object value"),
        r("add_hparams", {"hparam_dict": {1: 0.1}}, "hparam_dict", "int key"),
        r("add_hparams", {"hparam_dict": {"lr": COMPLEX}}, "hparam_dict", "array value"),
        r("add_hparams", {"metric_dict": {"m": "high"}}, "metric_dict", "str metric"),
        r("add_hparams", {"metric_dict": None}, "metric_dict"),
        r("add_hparams", {"metric_dict": {"m": [1.0]}}, "metric_dict", "list metric"),
        r("add_hparams", {"hparam_domain_discrete": {"lr": "abc"}}, "hparam_domain_discrete"),
        r("add_hparams", {"run_name": 5}, "run_name"),
        r("add_hparams", {"run_name": "../x"}, "run_name"),
        # add_custom_scalars
        r("add_custom_scalars", {"layout": None}, "layout"),
        r("add_custom_scalars", {"layout": {"cat": {"t": ["Bogus", ["x"]]}}}, "layout", "unknown chart"),
        r("add_custom_scalars", {"layout": {"cat": "x"}}, "layout", "category not a dict"),
        r("add_custom_scalars", {"layout": {"cat": {"t": ["Margin", ["a", "b"]]}}}, "layout", "margin of 2 tags"),
        r("add_custom_scalars", {"layout": {"cat": {"t": ["Multiline", "loss"]}}}, "layout", "tags not a list"),
        # graphs
        *[r("add_graph", {"model": v}, "model") for v in (None, 5, object())],
        *[r("add_onnx_graph", {"prototxt": v}, "prototxt|model") for v in (None, 5)],
        r("add_graph", {"model": "typo"}, "model", "path that does not exist"),
        r("add_onnx_graph", {"prototxt": "missing.onnx"}, "prototxt|model", "path that does not exist"),
        # constructor
        *[r("__init__", {"log_dir": v}, "log_dir") for v in (5, "", "a\x00b", ["runs"])],
        *[r("__init__", {"comment": v}, "comment") for v in (5, "../x", "a/b")],
        *[r("__init__", {"purge_step": v}, "purge_step") for v in (-1, "3", 2**63)],
        *[r("__init__", {"max_queue": v}, "max_queue") for v in (0, -5, 2.5, "10")],
        *[r("__init__", {"flush_secs": v}, "flush_secs") for v in (0, -1, math.nan, "120", math.inf)],
        *[r("__init__", {"filename_suffix": v}, "filename_suffix") for v in (5, "/x", "..", "a\x00")],
    ]


ROWS: list[Row] = _common_rows() + _value_rows()


def available(kind: str | None) -> bool:
    """Whether the summary type (or graph support) that ``kind`` needs is installed."""
    from tbcore import plugins

    if kind is None:
        return True
    if kind == "graph":
        return bool(plugins.get_plugin_manager().hook.tbcore_graph_builder.get_hookimpls())
    return kind in plugins.summary_types()


def missing(method: str, needs: tuple[str, ...] = ()) -> list[str]:
    """The packages a call to ``method`` needs (its template's and ``needs``) that are not installed."""
    return [name for name in (*TEMPLATE_NEEDS.get(method, ()), *needs) if importlib.util.find_spec(name) is None]


def call(writer_class: type, logdir: str, row: Row) -> Any:
    """Make a writer for ``logdir`` and run ``row`` on it (the constructor row makes the writer itself)."""
    if row.method == "__init__":
        kwargs = {"log_dir": logdir, **row.bad}
        if "comment" in row.bad:
            kwargs["log_dir"] = None  # the default runs/<stamp><comment>, in the working directory
        return writer_class(**kwargs)
    writer = writer_class(logdir)
    try:
        getattr(writer, row.method)(**{**good(row.method), **row.bad})
    finally:
        writer.flush()
    return writer


def snapshot(root: str) -> dict[str, int]:
    """Return ``{path: size}`` of every file under ``root``."""
    return {
        os.path.join(directory, name): os.path.getsize(os.path.join(directory, name))
        for directory, _dirs, files in os.walk(root)
        for name in files
    }


def clear_message(row: Row, error: BaseException) -> bool:
    """Whether ``error`` is a TypeError/ValueError naming the argument and saying what was expected and given."""
    if not isinstance(error, (TypeError, ValueError)):
        return False
    text = str(error)
    return bool(re.search(rf"\b({row.argument})\b", text)) and "expected" in text and "got" in text


def classify(row: Row, writer_class: type) -> str:
    """Run ``row`` in a fresh temporary log dir and return clear / unclear / accepted / garbage."""
    with tempfile.TemporaryDirectory() as root:
        cwd = os.getcwd()
        os.chdir(root)  # a default log dir (runs/...) lands in root too
        try:
            return _classify_in(row, writer_class, root)
        finally:
            os.chdir(cwd)


def _classify_in(row: Row, writer_class: type, root: str) -> str:
    logdir = os.path.join(root, "logs")
    if row.method != "__init__":
        writer_class(logdir).close()  # the run's first file exists before the bad call
    before = snapshot(root)
    try:
        writer = call(writer_class, logdir, row)
    except Exception as error:  # noqa: BLE001 - classifying any answer
        return "clear" if clear_message(row, error) else "unclear"
    try:
        writer.close()
    except Exception:  # noqa: BLE001 - an error surfacing only at close is not a clear answer
        return "unclear"
    after = snapshot(root)
    grew = {path for path, size in after.items() if path not in before and size > 88 or size > before.get(path, 0)}
    return "garbage" if grew else "accepted"


def main() -> None:
    """Print how the installed tbcore (or torch with ``--torch``) answers every row."""
    if "--torch" in sys.argv:
        from torch.utils.tensorboard import SummaryWriter
    else:
        from tbcore import SummaryWriter
    ours = SummaryWriter.__module__.startswith("tbcore")
    counts: dict[str, int] = {}
    for row in ROWS:
        if missing(row.method, row.needs) or (ours and not available(row.kind)):
            result = "skipped"
        else:
            result = classify(row, SummaryWriter)
        counts[result] = counts.get(result, 0) + 1
        if result not in ("clear", "skipped") and "-v" in sys.argv:
            print(f"{result:9} {row.id}")
    print(f"{len(ROWS)} rows:", ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
