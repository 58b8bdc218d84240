"""The low-level view of a writer's run that integrations use: ``writer.file_writer``, as in torch."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from tbcore import events
from tbcore.encoded import Encoded
from tbcore.errors import invalid
from tbcore.proto import event_pb2
from tbcore.validate import check_step, check_walltime

if TYPE_CHECKING:
    from tbcore.writer import Writer

__all__ = ["FileWriter"]


class FileWriter:
    """The low-level view of a writer's run that integrations use (``writer.file_writer``).

    Its methods raise ``TypeError`` for a value that is not a protocol buffer, and otherwise as the writer's.
    """

    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    def get_logdir(self) -> str:
        """Return the run directory."""
        return self._writer.log_dir

    def add_event(self, event: Any, step: int | None = None, walltime: float | None = None) -> None:
        """Write an ``Event`` proto (tbcore's, TensorBoard's or TensorFlow's), setting step and wall time if given."""
        data = _serialized(event, "event", "Event")
        parsed = event_pb2.Event.FromString(data)
        parsed.wall_time = time.time() if walltime is None else check_walltime(walltime)
        if step is not None:
            parsed.step = check_step(step, "step")
        self._writer._pipeline.check()
        self._writer._pipeline.put_event(self._writer._file(""), parsed.SerializeToString())

    def add_summary(self, summary: Any, global_step: int | None = None, walltime: float | None = None) -> None:
        """Write a ``Summary`` proto (tbcore's, TensorBoard's or TensorFlow's) as one event."""
        data = _serialized(summary, "summary", "Summary")
        step = check_step(global_step)
        wall = time.time() if walltime is None else check_walltime(walltime)
        self._writer._pipeline.check()
        data = events.summary_event(data, step, wall)
        self._writer._pipeline.put_event(self._writer._file(""), data)

    def add_graph(self, graph_def: Any, walltime: float | None = None) -> None:
        """Write a ``GraphDef`` proto (or its serialized bytes) as the run graph."""
        data = graph_def if isinstance(graph_def, bytes) else _serialized(graph_def, "graph_def", "GraphDef")
        self._writer.write(Encoded(graph_def=data), 0, walltime)

    def flush(self) -> None:
        """Flush the writer (see :meth:`Writer.flush`)."""
        self._writer.flush()

    def close(self) -> None:
        """Close the writer (see :meth:`Writer.close`)."""
        self._writer.close()


def _serialized(message: Any, argument: str, name: str) -> bytes:
    """Return the bytes of the protocol buffer ``message`` of type ``name`` (tbcore's, TensorBoard's or TensorFlow's).

    :raises TypeError: ``message`` is not such a message: parsed as one, another message's bytes
        would be written as garbage that TensorBoard skips.
    """
    if getattr(getattr(message, "DESCRIPTOR", None), "name", None) != name or not hasattr(message, "SerializeToString"):
        raise invalid(argument, f"a{'n' if name[0] in 'AEIOU' else ''} {name} protocol buffer", message, kind=TypeError)
    return message.SerializeToString()
