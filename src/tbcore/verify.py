"""Checking an event file whole: how many records are intact, and where it is damaged or cut.

:func:`tbcore.reader.iter_events` stops quietly at a truncated last record, because a
file that is still being written looks exactly like that. :func:`verify_file` is for
when the writer is done (after a crash, before archiving a run): it reports that torn
tail too, with the file and offset, as well as the first corrupt record. It never
raises for damaged content and never reads more than the file holds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from tbcore.reader import CorruptRecordError, iter_records
from tbcore.record import FOOTER_SIZE, HEADER_SIZE
from tbcore.scan import parse_event

__all__ = ["FileReport", "verify_file"]


@dataclass(frozen=True, slots=True)
class FileReport:
    """What :func:`verify_file` found in one event file.

    :param path: the file.
    :param records: whole records that are valid events, from the start of the file.
    :param problem_offset: where the first problem starts (``None`` if the file is intact).
    :param problem: what is wrong there: a corruption reason, or ``"truncated record"``.
    """

    path: str
    records: int
    problem_offset: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the file is whole: every byte belongs to a valid record."""
        return self.problem is None


def verify_file(path: str | os.PathLike[str]) -> FileReport:
    """Read every record of ``path`` and report the valid ones and the first problem with its offset."""
    path = os.fspath(path)
    records, end = 0, 0
    try:
        for record in iter_records(path):
            parse_event(path, record.offset, record.data)
            records += 1
            end = record.offset + HEADER_SIZE + len(record.data) + FOOTER_SIZE
    except CorruptRecordError as exc:
        return FileReport(path, records, exc.offset, exc.reason)
    size = os.path.getsize(path)
    if end < size:
        return FileReport(path, records, end, f"truncated record ({size - end} bytes at the end of the file)")
    return FileReport(path, records)
