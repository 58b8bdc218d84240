"""Hyperparameter trials for TensorBoard's HParams dashboard (``add_hparams``).

A trial is three summaries whose data lives in their metadata: the experiment (which
hyperparameters and metrics exist, with their domains), the session start (this
trial's values) and the session end (its status), plus the metrics as scalars. The tag
of the ``hparams`` summary type names the run they go to: a sub-run of the writer's log
directory (torch's layout) or ``"."`` for the writer's own run. bool, str, int and
float values keep their type (torch turns bools into floats).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf import json_format, struct_pb2

import tbcore
from tbcore.proto import plugin_hparams_pb2 as hp_pb2
from tbcore.proto import summary_pb2

PLUGIN_NAME = "hparams"
PROTO_VERSION = 0

EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_INFO_TAG = "_hparams_/session_start_info"
SESSION_END_INFO_TAG = "_hparams_/session_end_info"

STATUSES = {
    "success": hp_pb2.STATUS_SUCCESS,
    "failure": hp_pb2.STATUS_FAILURE,
    "running": hp_pb2.STATUS_RUNNING,
    "unknown": hp_pb2.STATUS_UNKNOWN,
}
_ACCEPTED = "a bool, str, int or float (or a one-element numpy/torch/JAX array)"


def metadata(data: hp_pb2.HParamsPluginData) -> summary_pb2.SummaryMetadata:
    """Return the ``hparams`` plugin metadata holding ``data`` (an experiment, session start or session end)."""
    data.version = PROTO_VERSION
    return tbcore.summary_metadata(PLUGIN_NAME, data.SerializeToString())


def _summary(tag: str, data: hp_pb2.HParamsPluginData) -> summary_pb2.Summary:
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, metadata=metadata(data))])


def _plain(value: Any, argument: str) -> Any:
    """Return ``value`` as a Python bool, str, int or float, or raise naming the accepted types."""
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Real) and not hasattr(value, "shape"):
        try:
            number = float(value)
        except OverflowError:
            raise tbcore.invalid(argument, "a finite number", value) from None
    elif getattr(value, "shape", None) is not None and not isinstance(value, (list, tuple)):
        array = tbcore.as_numpy(value, argument)
        if array.size != 1 or array.dtype.kind not in "biuf":
            raise tbcore.invalid(argument, _ACCEPTED, value, kind=TypeError)
        item = array.reshape(-1)[0].item()
        return item if isinstance(item, bool) else _plain(item, argument)
    else:
        raise tbcore.invalid(argument, _ACCEPTED, value, kind=TypeError)
    if not math.isfinite(number):
        raise tbcore.invalid(argument, "a finite number", value)
    return value if isinstance(value, int) else number


def _struct_value(value: Any) -> struct_pb2.Value:
    if isinstance(value, bool):
        return struct_pb2.Value(bool_value=value)
    if isinstance(value, str):
        return struct_pb2.Value(string_value=value)
    return struct_pb2.Value(number_value=float(value))


def _data_type(value: Any) -> hp_pb2.HParamDataType:
    if isinstance(value, bool):
        return hp_pb2.DATA_TYPE_BOOL
    if isinstance(value, str):
        return hp_pb2.DATA_TYPE_STRING
    return hp_pb2.DATA_TYPE_FLOAT64


def _names(mapping: Any, argument: str, expected: str) -> Mapping[str, Any]:
    if not isinstance(mapping, Mapping):
        raise tbcore.invalid(argument, expected, mapping, kind=TypeError)
    for key in mapping:
        if not isinstance(key, str) or not key:
            raise tbcore.invalid(f"{argument} key", "a non-empty str", key, kind=TypeError)
    return mapping


def hparam_infos(
    values: Mapping[str, Any], discrete: Mapping[str, Any] | None, interval: Mapping[str, Any] | None
) -> list[hp_pb2.HParamInfo]:
    """Return the ``HParamInfo`` of each checked hyperparameter value, with its discrete or interval domain."""
    discrete = _names(discrete or {}, "hparam_domain_discrete", "a dict {name: [values]}")
    interval = _names(interval or {}, "hparam_domain_interval", "a dict {name: (min, max)}")
    for name in (*discrete, *interval):
        if name not in values:
            raise ValueError(f"hparam_domain: expected names of hparam_dict ({', '.join(values)}), got {name!r}")
        if name in discrete and name in interval:
            raise ValueError(f"hparam_domain: expected one domain per hparam, got both kinds for {name!r}")
    infos = []
    for name, value in values.items():
        info = hp_pb2.HParamInfo(name=name, type=_data_type(value))
        if name in discrete:
            info.domain_discrete.CopyFrom(_discrete(name, value, discrete[name]))
        elif name in interval:
            info.domain_interval.CopyFrom(_interval(name, value, interval[name]))
        infos.append(info)
    return infos


def _discrete(name: str, value: Any, domain: Any) -> struct_pb2.ListValue:
    argument = f"hparam_domain_discrete[{name!r}]"
    if isinstance(domain, (str, bytes)) or not isinstance(domain, Sequence) or not domain:
        raise tbcore.invalid(argument, "a non-empty list of values", domain, kind=TypeError)
    items = [_plain(item, argument) for item in domain]
    if any(_data_type(item) != _data_type(value) for item in items):
        expected = f"values of the same kind as hparam_dict[{name!r}] ({value!r})"
        raise tbcore.invalid(argument, expected, domain, kind=TypeError)
    return struct_pb2.ListValue(values=[_struct_value(item) for item in items])


def _interval(name: str, value: Any, bounds: Any) -> hp_pb2.Interval:
    argument = f"hparam_domain_interval[{name!r}]"
    if _data_type(value) != hp_pb2.DATA_TYPE_FLOAT64:
        raise tbcore.invalid(argument, "an interval only for a numeric hparam", value, kind=TypeError)
    if isinstance(bounds, (str, bytes)) or not isinstance(bounds, Sequence) or len(bounds) != 2:
        raise tbcore.invalid(argument, "a pair (min, max) of numbers", bounds, kind=TypeError)
    low, high = (_plain(bound, argument) for bound in bounds)
    if isinstance(low, (bool, str)) or isinstance(high, (bool, str)) or not low <= high:
        raise tbcore.invalid(argument, "a pair (min, max) of numbers with min <= max", bounds)
    return hp_pb2.Interval(min_value=float(low), max_value=float(high))


def _metrics(metric_dict: Any) -> dict[str, float | None]:
    metric_dict = _names(metric_dict, "metric_dict", "a dict {metric tag: number or None}")
    metrics: dict[str, float | None] = {}
    for name, value in metric_dict.items():
        if value is not None:
            value = _plain(value, f"metric_dict[{name!r}]")
            if isinstance(value, (bool, str)):
                expected = "a number, or None to log it later"
                raise tbcore.invalid(f"metric_dict[{name!r}]", expected, value, kind=TypeError)
        metrics[name] = value
    return metrics


def run_of(tag: str) -> str:
    """Return the sub-run named by ``tag`` (``"."`` is the writer's own run, ``""``), checking it stays inside."""
    parts = tag.split("/")
    if tag == ".":
        return ""
    if tag.startswith("/") or "\\" in tag or any(part in ("", ".", "..") for part in parts):
        raise tbcore.invalid("run_name", "a relative run name without '..', '\\' or empty parts, or '.'", tag)
    return tag


def summaries(
    hparam_dict: Any,
    metric_dict: Any,
    hparam_domain_discrete: Any = None,
    hparam_domain_interval: Any = None,
    status: str | None = "success",
) -> tuple[list[summary_pb2.Summary], dict[str, float | None]]:
    """Return the experiment, session-start (and session-end unless ``status`` is None) summaries, and the metrics."""
    values = {
        name: _plain(value, f"hparam_dict[{name!r}]")
        for name, value in _names(hparam_dict, "hparam_dict", "a dict {name: value}").items()
    }
    metrics = _metrics(metric_dict)
    infos = hparam_infos(values, hparam_domain_discrete, hparam_domain_interval)
    experiment = hp_pb2.Experiment(
        hparam_infos=infos, metric_infos=[hp_pb2.MetricInfo(name=hp_pb2.MetricName(tag=name)) for name in metrics]
    )
    start = hp_pb2.SessionStartInfo(hparams={name: _struct_value(value) for name, value in values.items()})
    result = [
        _summary(EXPERIMENT_TAG, hp_pb2.HParamsPluginData(experiment=experiment)),
        _summary(SESSION_START_INFO_TAG, hp_pb2.HParamsPluginData(session_start_info=start)),
    ]
    if status is not None:
        result.append(session_end(status))
    return result, metrics


def session_end(status: Any = "success") -> summary_pb2.Summary:
    """Return the session-end summary with ``status``: ``"success"``, ``"failure"``, ``"running"`` or ``"unknown"``."""
    if not isinstance(status, str) or status not in STATUSES:
        raise tbcore.invalid("status", f"one of {', '.join(map(repr, STATUSES))}", status)
    end = hp_pb2.SessionEndInfo(status=STATUSES[status])  # type: ignore[arg-type]
    return _summary(SESSION_END_INFO_TAG, hp_pb2.HParamsPluginData(session_end_info=end))


def encode(
    tag: str,
    hparam_dict: Any,
    *,
    metric_dict: Any,
    hparam_domain_discrete: Any = None,
    hparam_domain_interval: Any = None,
    status: str | None = "success",
) -> list[tbcore.Encoded]:
    """Return a trial's records for run ``tag`` (see :func:`run_of`): experiment, session start, session end
    (unless ``status`` is None: end it later with the ``hparams_end`` type), then the metrics as scalars.

    :param metric_dict: ``{metric tag: number}``; a None value declares the metric without a value
        (log it later with ``add_scalar`` in that run, at any step).
    :param hparam_domain_discrete: ``{name: [possible values]}``.
    :param hparam_domain_interval: ``{name: (min, max)}`` for numeric hyperparameters.
    """
    run = run_of(tag)
    records, metrics = summaries(hparam_dict, metric_dict, hparam_domain_discrete, hparam_domain_interval, status)
    scalars = [
        summary_pb2.Summary.Value(tag=name, simple_value=value) for name, value in metrics.items() if value is not None
    ]
    if scalars:
        records.append(summary_pb2.Summary(value=scalars))
    return [tbcore.Encoded(summary=summary, run=run) for summary in records]


def encode_end(tag: str, status: Any) -> tbcore.Encoded:
    """Return the session-end record of the trial in run ``tag`` (``"."`` for the writer's own run)."""
    return tbcore.Encoded(summary=session_end(status), run=run_of(tag))


def decode(value: summary_pb2.Summary.Value) -> dict[str, Any]:
    """Return an hparams value as a dict: ``{"experiment" | "session_start_info" | "session_end_info": {...}}``.

    Field names are the proto's; hyperparameter values are Python bool, float or str.
    """
    data = hp_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
    return json_format.MessageToDict(data, preserving_proto_field_name=True)


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``hparams`` and ``hparams_end``."""
    return [
        tbcore.SummaryType(
            name="hparams",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="a hyperparameter trial and its metrics; the tag names the run (add_hparams)",
            adapt_value=False,
            decode=decode,
        ),
        tbcore.SummaryType(
            name="hparams_end",
            plugin_name=PLUGIN_NAME,
            encode=encode_end,
            description="the end status of the trial in the run named by the tag",
            adapt_value=False,
        ),
    ]
