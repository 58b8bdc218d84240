"""The reader on damaged files: every problem reported with file and offset, no crash, no huge allocation."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbcore import SummaryWriter
from tbcore.reader import CorruptRecordError, iter_events, iter_records
from tbcore.record import frame, masked_crc32c
from tbcore.verify import FileReport, verify_file


@pytest.fixture(scope="module")
def good_file(tmp_path_factory) -> bytes:
    """The bytes of a small valid event file (file_version + 5 scalars)."""
    logdir = tmp_path_factory.mktemp("good")
    with SummaryWriter(logdir) as writer:
        for step in range(5):
            writer.add_scalar("loss", float(step), step)
    (name,) = os.listdir(logdir)
    return (logdir / name).read_bytes()


def _read_all(path) -> tuple[list, CorruptRecordError | None]:
    """Read every event; return them and the CorruptRecordError that stopped the reading, if any."""
    events = []
    try:
        for event in iter_events(path):
            events.append(event)
    except CorruptRecordError as exc:
        return events, exc
    return events, None


def _record_offsets(data: bytes) -> list[int]:
    offsets, offset = [], 0
    while offset < len(data):
        offsets.append(offset)
        offset += 16 + struct.unpack_from("<Q", data, offset)[0]
    return offsets


def test_empty_file(tmp_path):
    path = tmp_path / "events.out.tfevents.empty"
    path.write_bytes(b"")
    assert _read_all(path) == ([], None)


def test_every_truncation_yields_the_whole_records_before_it(tmp_path, good_file):
    """A file cut anywhere reads as its whole records up to the cut (the tail may still be being written)."""
    offsets = _record_offsets(good_file) + [len(good_file)]
    path = tmp_path / "events.out.tfevents.cut"
    for size in range(len(good_file) + 1):
        path.write_bytes(good_file[:size])
        events, error = _read_all(path)
        assert error is None
        assert len(events) == sum(1 for end in offsets[1:] if end <= size)


@pytest.mark.parametrize("where", ["length", "length_crc", "data", "data_crc"])
def test_flipped_byte_is_reported_with_file_and_offset(tmp_path, good_file, where):
    """A flipped bit in any part of the third record: CorruptRecordError naming the file and that offset."""
    offset = _record_offsets(good_file)[2]
    length = struct.unpack_from("<Q", good_file, offset)[0]
    position = {"length": offset, "length_crc": offset + 9, "data": offset + 14, "data_crc": offset + 13 + length}
    damaged = bytearray(good_file)
    damaged[position[where]] ^= 0x10
    path = tmp_path / "events.out.tfevents.flipped"
    path.write_bytes(bytes(damaged))
    events, error = _read_all(path)
    assert len(events) == 2
    assert error is not None and error.offset == offset and error.path == str(path)
    assert str(path) in str(error) and f"offset {offset}" in str(error)


@pytest.mark.parametrize(
    ("length", "error_offset"),
    [(2**31 - 1, None), (2**31, None), (2**40, 18), (2**64 - 1, 18)],  # up to 2 GiB: a tail not yet written
)
def test_huge_declared_length_is_never_allocated(tmp_path, length, error_offset):
    """A header with a valid CRC claiming a huge record: reported or treated as a cut tail, never allocated."""
    header = struct.pack("<Q", length)
    path = tmp_path / "events.out.tfevents.huge"
    path.write_bytes(frame(b"ok") + header + struct.pack("<I", masked_crc32c(header)) + b"x" * 100)
    tracemalloc.start()
    try:
        records, error = [], None
        try:
            for record in iter_records(path):
                records.append(record.data)
        except CorruptRecordError as exc:
            error = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert records == [b"ok"]  # the record before the huge header is read, also when an error follows
    assert (None if error is None else error.offset) == error_offset
    assert peak < 64 * 1024 * 1024  # the reader's own read buffer at most, never the declared length


def test_a_record_that_is_not_an_event(tmp_path):
    path = tmp_path / "events.out.tfevents.garbage"
    path.write_bytes(frame(b"\xff\xff\xff\xff not a protobuf"))
    events, error = _read_all(path)
    assert events == [] and error is not None and error.offset == 0 and "not an Event" in str(error)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096))
def test_fuzz_random_bytes(tmp_path, data):
    """Random bytes: only CorruptRecordError, never another exception or a hang."""
    path = tmp_path / "events.out.tfevents.fuzz"
    path.write_bytes(data)
    _read_all(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=8),
    cut=st.integers(min_value=0),
)
def test_fuzz_damaged_valid_file(tmp_path, good_file, edits, cut):
    """A valid file with random bytes overwritten and a random cut: whole records before the damage still read."""
    damaged = bytearray(good_file[: cut % (len(good_file) + 1)])
    for position, value in edits:
        if damaged:
            damaged[position % len(damaged)] = value
    path = tmp_path / "events.out.tfevents.fuzz"
    path.write_bytes(bytes(damaged))
    events, error = _read_all(path)
    first_damage = min((p % len(damaged) for p, _ in edits), default=len(damaged)) if damaged else 0
    intact = sum(1 for end in _record_offsets(good_file)[1:] + [len(good_file)] if end <= first_damage)
    assert len(events) >= intact
    assert error is None or error.path == str(path)


ATHERIS = """
import sys, tempfile, os
import atheris
with atheris.instrument_imports(include=["tbcore"]):
    from tbcore.reader import CorruptRecordError, iter_events
path = os.path.join(tempfile.mkdtemp(), "events.out.tfevents.atheris")

def one_input(data):
    with open(path, "wb") as file:
        file.write(data)
    try:
        for _ in iter_events(path):
            pass
    except CorruptRecordError:
        pass

atheris.Setup([sys.argv[0], "-runs=10000", "-max_len=2048", "-seed=8"], one_input)
atheris.Fuzz()
"""


@pytest.mark.slow
def test_fuzz_with_atheris(tmp_path):
    """Coverage-guided fuzzing (atheris/libFuzzer), 10k inputs: no exception but CorruptRecordError."""
    pytest.importorskip("atheris")
    result = subprocess.run([sys.executable, "-c", ATHERIS], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 10000 runs" in result.stderr


def test_verify_file_reports_a_torn_tail_and_corruption_with_offsets(tmp_path, good_file):
    """verify_file: intact, cut (with the offset of the torn record) and corrupt files, never raising."""
    offsets = _record_offsets(good_file)
    path = tmp_path / "events.out.tfevents.verify"
    path.write_bytes(good_file)
    assert verify_file(path) == FileReport(str(path), len(offsets))
    path.write_bytes(good_file[: offsets[3] + 5])
    report = verify_file(path)
    assert not report.ok and report.records == 3 and report.problem_offset == offsets[3]
    assert report.problem.startswith("truncated record")
    damaged = bytearray(good_file)
    damaged[offsets[1] + 14] ^= 1
    path.write_bytes(bytes(damaged))
    assert verify_file(path) == FileReport(str(path), 1, offsets[1], "data CRC mismatch")
    path.write_bytes(frame(b"ok") + frame(b"\xff\xff\xff\xff not an event"))
    report = verify_file(path)
    assert (report.records, report.problem_offset) == (0, 0) and report.problem.startswith("not an Event proto (")
    path.write_bytes(b"")
    assert verify_file(path).ok


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2048))
def test_fuzz_verify_file_never_raises(tmp_path, data):
    path = tmp_path / "events.out.tfevents.fuzz"
    path.write_bytes(data)
    report = verify_file(path)
    assert report.ok or report.problem_offset is not None
