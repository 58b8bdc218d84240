"""What an encoder returns: summaries, a graph, asset files, for this run or a sub-run.

Encoders are pure: they never touch the disk. The writer takes these records, checks
that every path stays inside the log directory and writes them. Most encoders simply
return a ``Summary``; the few that need more (graphs, embeddings, hparams, scalars in
sub-runs) return :class:`Encoded` records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from tbcore.proto import summary_pb2

__all__ = ["Asset", "Encoded", "EncoderResult", "GraphBuilder", "normalize"]


@dataclass(frozen=True, slots=True)
class Asset:
    """A file to write beside the event files.

    :param path: a relative POSIX path, resolved against the run's directory; the writer
        rejects absolute paths and paths that leave the log directory.
    :param data: the file's bytes, or a function from the file's current bytes (``None``
        if it does not exist yet) to its new bytes, for files that accumulate entries
        such as ``projector_config.pbtxt``. The writer calls the function before it writes
        any file of the call, so raising ``ValueError`` (content it cannot read) leaves
        nothing written; on a local disk it holds a lock on the file from reading to
        replacing it, so writers in other processes do not lose each other's updates.
        The function does no I/O of its own.
    """

    path: str
    data: bytes | Callable[[bytes | None], bytes]


@dataclass(frozen=True, slots=True)
class Encoded:
    """One unit of output of an encoder.

    :param summary: a Summary to write as an event at the call's step and wall time.
    :param graph_def: a serialized ``GraphDef`` for ``Event.graph_def``.
    :param run_metadata: ``(tag, serialized RunMetadata)`` for ``Event.tagged_run_metadata``.
    :param assets: files to write beside the run's event file.
    :param run: a sub-run, relative to the writer's log directory (``""`` is the writer's own
        run). torch's ``add_scalars`` and ``add_hparams`` write into sub-runs.
    :param step: overrides the call's step for this record (``None`` keeps it).
    """

    summary: summary_pb2.Summary | None = None
    graph_def: bytes | None = None
    run_metadata: tuple[str, bytes] | None = None
    assets: tuple[Asset, ...] = ()
    run: str = ""
    step: int | None = None


EncoderResult = Union["summary_pb2.Summary", Encoded, Sequence[Encoded]]


def normalize(result: Any) -> list[Encoded]:
    """Return an encoder's result as a list of :class:`Encoded` records."""
    from tbcore.proto import summary_pb2

    if isinstance(result, summary_pb2.Summary):
        return [Encoded(summary=result)]
    if isinstance(result, Encoded):
        return [result]
    if isinstance(result, (list, tuple)) and all(isinstance(r, Encoded) for r in result):
        return list(result)
    raise TypeError(
        f"encoder result: expected a Summary, an Encoded or a sequence of Encoded, got {type(result).__qualname__}"
    )


@dataclass(frozen=True, slots=True)
class GraphBuilder:
    """Turns a model of one framework into TensorBoard graph records.

    :param name: a short name shown by ``tbcore plugins`` (e.g. ``"torch"``).
    :param build: ``build(model, example_inputs, **options)`` returning the records to write,
        usually one :class:`Encoded` with ``graph_def`` (and optionally ``run_metadata``).
    """

    name: str
    build: Callable[..., EncoderResult]
