"""``SummaryWriter``: the drop-in for ``torch.utils.tensorboard.SummaryWriter``.

Every ``add_*`` method has torch 2.13's name, argument order and defaults, and is one
call into the generic :meth:`Writer.add` path with the summary type that implements it
(see ``src/tbplugins``). Differences from torch are listed in docs/guide/migration.md.
"""

from __future__ import annotations

import functools
import re
import time
from typing import Any

from tbcore.adapters import graph_builder_for
from tbcore.validate import check_tag
from tbcore.writer import Writer

__all__ = ["SummaryWriter"]


class SummaryWriter(Writer):
    """Writes TensorBoard event files; a drop-in for ``torch.utils.tensorboard.SummaryWriter``.

    Every ``add_*`` method takes ``global_step`` (an int >= 0; None means 0) and, where torch
    has it, ``walltime`` (seconds since the epoch; None means now), returns None and queues
    the events for the writer thread. Use the writer as a context manager, or call
    :meth:`SummaryWriter.close`, to write everything before the process ends.

    :param log_dir: the run directory; default ``runs/<Mon>DD_HH-MM-SS_<hostname><comment>``.
    :param comment: appended to the default ``log_dir`` (ignored when ``log_dir`` is given).
    :param purge_step: hide events at steps >= this one left by a crashed earlier run (resume).
    :param max_queue: pending events after which they are written to the file.
    :param flush_secs: the longest time in seconds an event waits before it is written.
    :param filename_suffix: appended to the event file's name.
    :param storage_options: (keyword-only, not in torch) options for the fsspec filesystem of a
        URL ``log_dir`` (``s3://``, ``gs://``, ``az://``, ``memory://``...), e.g.
        ``{"endpoint_url": ...}``; credentials otherwise come from the filesystem package's
        usual configuration (docs/remote.md).
    :param all_ranks: (keyword-only, not in torch) in a multi-process job, every rank writes into
        its own run ``<log_dir>/rank<k>``; by default only rank 0 writes and the other ranks'
        writers do nothing (docs/distributed.md).
    :param rank: (keyword-only, not in torch) this process's rank, overriding detection
        (torch.distributed, JAX, ``RANK``...).
    :raises TypeError: (any ``add_*`` method) a value of the wrong type. The message names the
        argument, what was expected and what was given; nothing of that call is written and the
        writer stays usable.
    :raises ValueError: (any ``add_*`` method) a value of the right type but a wrong shape,
        range or content; as for ``TypeError``, nothing is written.
    :raises OSError: (any method) an earlier background write failed; the message names the file.
    """

    @functools.cached_property
    def _custom_scalar_layouts(self) -> list[dict[str, Any]]:
        """Every layout given to ``add_custom_scalars*`` so far; all are merged on each write."""
        return []

    @functools.cached_property
    def _same_run_charts(self) -> set[str]:
        """The ``main_tag`` of every ``add_scalars(same_run=True)`` chart already in the layouts."""
        return set()

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Any],
        global_step: int | None = None,
        walltime: float | None = None,
        *,
        same_run: bool = False,
    ) -> None:
        """Add several scalars: each key becomes the run ``<log_dir>/<main_tag with / as _>_<key>``, tag ``main_tag``.

        ``same_run=True`` (tbcore only) keeps them in this run instead, as the tags ``<main_tag>/<key>``,
        and declares a custom-scalars chart showing them all as lines of one chart.
        """
        if not same_run:
            self._add_scalars(main_tag, tag_scalar_dict, global_step, walltime)
            return
        main_tag = check_tag(main_tag, "main_tag")
        self._add_scalars_same_run(main_tag, tag_scalar_dict, global_step, walltime)
        if tag_scalar_dict and main_tag not in self._same_run_charts:  # no chart of nothing; no scan per call
            chart = {main_tag: {main_tag: ["Multiline", [re.escape(f"{main_tag}/")]]}}
            if chart not in self._custom_scalar_layouts:
                self.add_custom_scalars(chart)
            self._same_run_charts.add(main_tag)

    def add_tensor(self, tag: str, tensor: Any, global_step: int | None = None, walltime: float | None = None) -> None:
        """Add a raw tensor of any dtype and shape (stored as a TensorProto, read back with the reader)."""
        self._add("tensor", tag, tensor, global_step, walltime, {})

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: int | None = None,
        bins: Any = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """Add a histogram of ``values`` (any shape, flattened; NaN and infinities count in ``num`` only).

        :param bins: ``"tensorflow"`` (torch's exponential edges), a numpy rule (``"auto"``,
            ``"fd"``...), a number of bins, or increasing bucket edges (docs/types/histogram.md).
        :param max_bins: merge adjacent buckets until about this many remain (None: no merging).
        """
        self._add("histogram", tag, values, global_step, walltime, {"bins": bins, "max_bins": max_bins})

    def add_histogram_raw(
        self,
        tag: str,
        min: float,  # noqa: A002 - torch's argument names
        max: float,  # noqa: A002
        num: int,
        sum: float,  # noqa: A002
        sum_squares: float,
        bucket_limits: Any,
        bucket_counts: Any,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Add a histogram from precomputed statistics, bucket right edges and counts.

        :param bucket_limits: the right edge of each bucket, non-decreasing.
        :param bucket_counts: the count (>= 0) of each bucket, as many as ``bucket_limits``.
        """
        options = {
            "min": min,
            "max": max,
            "num": num,
            "sum": sum,
            "sum_squares": sum_squares,
            "bucket_limits": bucket_limits,
        }
        self._add("histogram_raw", tag, bucket_counts, global_step, walltime, options)

    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """Add one image (uint8 as is, floats in [0, 1] scaled to 0-255, bool as 0/255), stored as PNG.

        :param img_tensor: an array (numpy, torch, JAX...) or a PIL image (its own layout).
        :param dataformats: the axes of ``img_tensor``: ``H`` and ``W`` in any order, optionally ``C``
            with 1, 3 or 4 channels (docs/types/image.md).
        """
        self._add("image", tag, img_tensor, global_step, walltime, {"dataformats": dataformats})

    def add_images(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        """Add a batch of images, tiled into one grid image as torch does.

        :param dataformats: the axes of ``img_tensor``, with ``N`` for the batch (``"NCHW"``, ``"NHWC"``...).
        """
        self._add("images", tag, img_tensor, global_step, walltime, {"dataformats": dataformats})

    def add_image_with_boxes(
        self,
        tag: str,
        img_tensor: Any,
        box_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        rescale: float = 1,
        dataformats: str = "CHW",
        labels: list[str] | None = None,
    ) -> None:
        """Add an image with boxes drawn on it, and optional labels.

        :param box_tensor: (N, 4) boxes ``[x_min, y_min, x_max, y_max]`` in pixels of the input image.
        :param rescale: a factor > 0 the finished image is resized by.
        :param labels: None, one str (one box) or N labels, drawn at their boxes.
        """
        options = {"box_tensor": box_tensor, "rescale": rescale, "dataformats": dataformats, "labels": labels}
        self._add("image_with_boxes", tag, img_tensor, global_step, walltime, options)

    def add_figure(
        self,
        tag: str,
        figure: Any,
        global_step: int | None = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        """Add a matplotlib figure (or a list of figures, tiled into a grid) rendered to an image.

        :param close: close the figure(s) after rendering them, as torch does.
        """
        self._add("figure", tag, figure, global_step, walltime, {"close": close})

    def add_video(
        self,
        tag: str,
        vid_tensor: Any,
        global_step: int | None = None,
        fps: float = 4,
        walltime: float | None = None,
    ) -> None:
        """Add a video as an animated GIF shown in the Images dashboard.

        :param vid_tensor: (N, T, C, H, W): N videos tiled side by side, T frames, C of 1, 3 or 4
            channels; or a moviepy clip (docs/types/video.md).
        :param fps: frames per second, a number > 0.
        """
        self._add("video", tag, vid_tensor, global_step, walltime, {"fps": fps})

    def add_audio(
        self,
        tag: str,
        snd_tensor: Any,
        global_step: int | None = None,
        sample_rate: int = 44100,
        walltime: float | None = None,
        dataformats: str | None = None,
    ) -> None:
        """Add an audio clip, stored as WAV.

        :param snd_tensor: floats in [-1, 1] (clipped) or int16; shape (L,) or (1, L), or several
            channels with ``dataformats``.
        :param sample_rate: samples per second, an int > 0.
        :param dataformats: ``"CL"`` (channels, samples) or ``"LC"`` (samples, channels) for
            multi-channel audio; None for one channel.
        """
        options = {"sample_rate": sample_rate, "dataformats": dataformats}
        self._add("audio", tag, snd_tensor, global_step, walltime, options)

    def add_text(
        self, tag: str, text_string: str, global_step: int | None = None, walltime: float | None = None
    ) -> None:
        """Add Markdown text, under the tag ``<tag>/text_summary`` as torch does."""
        self._add("text", tag, text_string, global_step, walltime, {})

    def add_onnx_graph(self, prototxt: Any) -> None:
        """Add the graph of an ONNX model (needs the ``onnx`` package); it is written at step 0.

        :param prototxt: a path to a ``.onnx`` file, or an ``onnx.ModelProto``.
        """
        self._add_graph(prototxt, None, {})

    def add_graph(
        self,
        model: Any,
        input_to_model: Any = None,
        verbose: bool = False,
        use_strict_trace: bool = True,
    ) -> None:
        """Add the graph of a torch ``nn.Module`` (or a JAX function), written at step 0.

        The graph builder is chosen by the ``tbcore_graph_builder`` hook (docs/types/graph.md).

        :param input_to_model: example inputs the model is run (traced or exported) on: one value,
            a tuple or list of positional arguments, or a dict of keyword arguments.
        :param verbose: print which path built the graph.
        :param use_strict_trace: for torch, passed on as ``strict`` to the tracer.
        :raises ValueError: the model cannot be run on ``input_to_model`` (the cause is chained).
        """
        self._add_graph(model, input_to_model, {"verbose": verbose, "use_strict_trace": use_strict_trace})

    def _add_graph(self, model: Any, example_inputs: Any, options: dict[str, Any]) -> None:
        self._pipeline.check()
        builder = graph_builder_for(model)
        self.write(builder.build(model, example_inputs, **options), 0, None)

    def add_embedding(
        self,
        mat: Any,
        metadata: list[Any] | None = None,
        label_img: Any = None,
        global_step: int | None = None,
        tag: str = "default",
        metadata_header: list[str] | None = None,
    ) -> None:
        """Add an embedding for the projector: files under ``<log_dir>/<step>/<tag>/`` (written at once).

        :param mat: (N, D) points.
        :param metadata: N labels, or with ``metadata_header`` N rows of as many values as columns.
        :param label_img: (N, C, H, W) thumbnails, C of 1 or 3.
        :param tag: the embedding's name; it names a directory, so no ``/`` or ``\\``.
        :param metadata_header: column names of ``metadata`` rows.
        """
        options = {"metadata": metadata, "label_img": label_img, "metadata_header": metadata_header}
        options["step"] = global_step  # the step names the embedding's directory
        self._add("embedding", tag, mat, global_step, None, options)

    def add_pr_curve(
        self,
        tag: str,
        labels: Any,
        predictions: Any,
        global_step: int | None = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: float | None = None,
    ) -> None:
        """Add a precision-recall curve from binary ``labels`` and ``predictions`` in [0, 1].

        :param num_thresholds: an int > 0; threshold ``j`` is ``j / (num_thresholds - 1)``.
        :param weights: None, one number, or one weight per prediction.
        """
        options = {"labels": labels, "num_thresholds": num_thresholds, "weights": weights}
        self._add("pr_curve", tag, predictions, global_step, walltime, options)

    def add_pr_curve_raw(
        self,
        tag: str,
        true_positive_counts: Any,
        false_positive_counts: Any,
        true_negative_counts: Any,
        false_negative_counts: Any,
        precision: Any,
        recall: Any,
        global_step: int | None = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: float | None = None,
    ) -> None:
        """Add a precision-recall curve from precomputed counts, precision and recall (each num_thresholds long)."""
        options = {
            "false_positive_counts": false_positive_counts,
            "true_negative_counts": true_negative_counts,
            "false_negative_counts": false_negative_counts,
            "precision": precision,
            "recall": recall,
            "num_thresholds": num_thresholds,
            "weights": weights,
        }
        self._add("pr_curve_raw", tag, true_positive_counts, global_step, walltime, options)

    def add_custom_scalars_multilinechart(
        self, tags: list[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """Declare a custom-scalars chart with one line per tag (tags are regexes) in ``category``."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(
        self, tags: list[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """Declare a custom-scalars margin chart from three tags ``[value, lower, upper]``."""
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_custom_scalars(self, layout: dict[str, dict[str, list[Any]]]) -> None:
        """Declare custom-scalars charts: ``{category: {title: ['Multiline'|'Margin', tags]}}``.

        Calls merge (a chart with the same category and title replaces the earlier one) and
        the merged layout is written each time; torch keeps only the last call's layout.
        """
        layouts = [*self._custom_scalar_layouts, layout]
        self._add("custom_scalars", "custom_scalars__config__", layouts, None, None, {})
        self._custom_scalar_layouts = layouts

    def add_mesh(
        self,
        tag: str,
        vertices: Any,
        colors: Any = None,
        faces: Any = None,
        config_dict: dict[str, Any] | None = None,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Add a 3D mesh or point cloud.

        :param vertices: (B, N, 3) vertex positions.
        :param colors: (B, N, 3) RGB values in [0, 255].
        :param faces: (B, F, 3) vertex indices of triangles.
        :param config_dict: a JSON-serializable dict of three.js settings (camera, lights, material).
        """
        options = {"colors": colors, "faces": faces, "config_dict": config_dict}
        self._add("mesh", tag, vertices, global_step, walltime, options)

    def add_hparams(
        self,
        hparam_dict: dict[str, Any],
        metric_dict: dict[str, Any],
        hparam_domain_discrete: dict[str, list[Any]] | None = None,
        run_name: str | None = None,
        global_step: int | None = None,
        *,
        hparam_domain_interval: dict[str, tuple[float, float]] | None = None,
        status: str | None = "success",
    ) -> None:
        """Add a hyperparameter trial and its metrics (bool, str, int and float values keep their type).

        The trial goes to the sub-run ``run_name`` (default ``str(time.time())``, as torch does);
        ``run_name="."`` writes it into this run. tbcore-only options: ``hparam_domain_interval``
        ``{name: (min, max)}``, a metric value None declares a metric logged later with add_scalar,
        and ``status`` (``"success"``, ``"failure"``, ``"running"``, ``"unknown"``; None writes no end
        status: end the trial later with ``add("hparams_end", run_name, status)``).
        """
        options = {
            "metric_dict": metric_dict,
            "hparam_domain_discrete": hparam_domain_discrete,
            "hparam_domain_interval": hparam_domain_interval,
            "status": status,
        }
        run = check_tag(run_name, "run_name") if run_name else str(time.time())
        self._add("hparams", run, hparam_dict, global_step, None, options)
