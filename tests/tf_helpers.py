"""Event files read by TensorFlow's own reader; imported only by test files that first importorskip TensorFlow."""

from __future__ import annotations

import os
import pathlib

import tensorflow as tf


def tf_events(logdir: str | os.PathLike[str], run: str = ".") -> list:
    """Return every event of one run (files in name order) as TensorFlow's summary_iterator reads them."""
    paths = sorted((pathlib.Path(logdir) / run).glob("*tfevents*"))
    return [event for path in paths for event in tf.compat.v1.train.summary_iterator(str(path))]


def tf_values(logdir: str | os.PathLike[str], run: str = ".") -> dict[str, list]:
    """Return ``{tag: [(event, value)]}`` of one run as TensorFlow reads it."""
    values: dict[str, list] = {}
    for event in tf_events(logdir, run):
        for value in event.summary.value:
            values.setdefault(value.tag, []).append((event, value))
    return values


def tf_value(logdir: str | os.PathLike[str], tag: str, run: str = "."):
    """Return the only ``Summary.Value`` of ``tag`` as TensorFlow reads it."""
    [(_, value)] = tf_values(logdir, run)[tag]
    return value
