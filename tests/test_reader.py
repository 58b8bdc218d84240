"""tbcore.reader: records, corruption handling, runs discovery and the scalars table."""

from __future__ import annotations

import math
import os
import struct
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbcore import SummaryWriter, scan
from tbcore.reader import (
    CorruptRecordError,
    TbcoreReadWarning,
    iter_events,
    iter_logdir,
    iter_records,
    iter_run,
    list_runs,
    run_files,
    scalars,
)
from tbcore.record import frame, masked_crc32c


def _write_scalars(path, steps=10, tags=("a", "b")):
    with SummaryWriter(path) as writer:
        for step in range(steps):
            for i, tag in enumerate(tags):
                writer.add_scalar(tag, step + i / 10, step)
    (event_file,) = list_runs(path)["."]
    return event_file


def _offsets(path):
    return [record.offset for record in iter_records(path)]


def test_records_and_events_round_trip(logdir):
    path = _write_scalars(logdir, steps=3)
    records = list(iter_records(path))
    assert len(records) == 7  # file_version + 3 steps x 2 tags
    assert records[0].offset == 0
    events = list(iter_events(path))
    assert events[0].file_version == "brain.Event:2"
    assert [e.summary.value[0].tag for e in events[1:]] == ["a", "b"] * 3


@pytest.mark.parametrize("cut", [1, 8, 12, 13, -5, -1])
def test_truncated_last_record_is_not_yet_written(logdir, cut):
    path = _write_scalars(logdir, steps=4)
    offsets = _offsets(path)
    data = open(path, "rb").read()
    last = offsets[-1]
    end = last + cut if cut > 0 else len(data) + cut
    with open(path, "wb") as out:
        out.write(data[:end])
    assert _offsets(path) == offsets[:-1]
    table = scalars(logdir, as_frame=False)
    assert len(table["step"]) == len(offsets) - 2  # the file_version record holds no scalar


def _corrupt(path, position):
    data = bytearray(open(path, "rb").read())
    data[position] ^= 0xFF
    with open(path, "wb") as out:
        out.write(bytes(data))


@pytest.mark.parametrize(("where", "reason"), [(0, "length CRC"), (14, "data CRC"), (-1, "data CRC")])
def test_corrupt_record_reports_file_and_offset(logdir, where, reason):
    path = _write_scalars(logdir)
    offsets = _offsets(path)
    bad = offsets[5]
    next_record = offsets[6]
    _corrupt(path, bad + where if where >= 0 else next_record + where)
    with pytest.raises(CorruptRecordError, match=reason) as info:
        list(iter_records(path))
    assert info.value.path == path and info.value.offset == bad
    assert f"offset {bad}" in str(info.value)
    seen = []
    with pytest.raises(CorruptRecordError):
        for record in iter_records(path):
            seen.append(record.offset)
    assert seen == offsets[:5]


def test_crc_check_can_be_turned_off(logdir):
    path = _write_scalars(logdir)
    offsets = _offsets(path)
    _corrupt(path, offsets[4] - 1)  # the stored data CRC of record 3, not its data
    with pytest.raises(CorruptRecordError):
        list(iter_records(path))
    assert _offsets_unchecked(path) == offsets
    assert len(scalars(logdir, check_crc=False, as_frame=False)["step"]) == 20


def _offsets_unchecked(path):
    return [record.offset for record in iter_records(path, check_crc=False)]


def test_huge_declared_length_is_never_allocated(tmp_path):
    good = frame(b"x" * 10)
    head = struct.pack("<Q", 2**62)
    path = tmp_path / "events.out.tfevents.1.host"
    path.write_bytes(good + head + struct.pack("<I", masked_crc32c(head)) + b"y" * 20)
    with pytest.raises(CorruptRecordError, match="declared length") as info:
        list(iter_records(path))
    assert info.value.offset == len(good)
    with pytest.raises(CorruptRecordError, match="declared length"):
        list(iter_records(path, check_crc=False))
    # without CRCs a plausible garbage length past the end looks like a record still being written
    path.write_bytes(good + struct.pack("<Q", 10_000) + b"\0" * 24)
    assert [r.data for r in iter_records(path, check_crc=False)] == [b"x" * 10]


@pytest.mark.parametrize("block", [16, 40, 100, 4096])
def test_small_blocks_and_records_larger_than_a_block(logdir, monkeypatch, block):
    monkeypatch.setattr(scan, "BLOCK_BYTES", block)
    with SummaryWriter(logdir) as writer:
        for step in range(30):
            writer.add_scalar("loss", step * 0.5, step)
            if step % 7 == 0:
                writer.add_text("notes", "x" * (3 * block), step)
    (path,) = list_runs(logdir)["."]
    monkeypatch.setattr(scan, "BLOCK_BYTES", 1 << 20)
    expected = [(r.offset, r.data) for r in iter_records(path)]
    monkeypatch.setattr(scan, "BLOCK_BYTES", block)
    assert [(r.offset, r.data) for r in iter_records(path)] == expected
    table = scalars(logdir, as_frame=False)
    assert table["step"].tolist() == list(range(30))


def test_on_corrupt_warns_and_goes_on_with_the_next_file(logdir):
    first = _write_scalars(logdir, steps=10)
    second = _write_scalars(logdir / "sub", steps=3)
    os.replace(second, str(first) + ".zz")  # same run, read after the first file
    offsets = _offsets(first)
    _corrupt(first, offsets[5] + 14)
    with pytest.raises(CorruptRecordError):
        scalars(logdir)
    with pytest.warns(TbcoreReadWarning, match="corrupt record at offset"):
        table = scalars(logdir, on_corrupt="warn", as_frame=False)
    assert len(table["step"]) == 4 + 6
    errors = []
    events = list(iter_run(logdir, on_corrupt=errors.append))
    assert [e.offset for e in errors] == [offsets[5]]
    assert len(events) == 5 + 7
    with pytest.raises(ValueError, match="on_corrupt: expected"):
        list(iter_logdir(logdir, on_corrupt="ignore"))


def test_runs_discovery_matches_tensorboard(logdir):
    from tensorboard.backend.event_processing import io_wrapper

    for run in ["", "a", "a/b", "c/d/e", "only_assets"]:
        if run == "only_assets":
            (logdir / run).mkdir()
            (logdir / run / "projector_config.pbtxt").write_text("")
            continue
        with SummaryWriter(logdir / run) as writer:
            writer.add_scalar("x", 1.0, 0)
    (logdir / "f").mkdir()
    (logdir / "f" / "x.tfevents.custom").write_bytes(b"")
    found = io_wrapper.GetLogdirSubdirectories(str(logdir))
    expected = {os.path.relpath(d, logdir).replace(os.sep, "/") for d in found}
    assert set(list_runs(logdir)) == expected == {".", "a", "a/b", "c/d/e", "f"}


def test_iter_run_lists_only_its_own_directory(logdir, monkeypatch):
    _write_scalars(logdir, steps=2)
    _write_scalars(logdir / "sub", steps=3)
    (logdir / "dir.tfevents.x").mkdir()  # a directory is never an event file, as for list_runs
    runs = list_runs(logdir)
    monkeypatch.setattr(os, "walk", None)  # the one-run path never walks the tree
    assert run_files(logdir) == runs["."] and run_files(logdir / "sub") == runs["sub"]
    assert len(list(iter_run(logdir))) == 5 and len(list(iter_run(logdir / "sub"))) == 7
    assert run_files(logdir / "missing") == []


def test_iter_logdir_names_runs(logdir):
    _write_scalars(logdir / "r1", steps=2)
    _write_scalars(logdir / "r2", steps=1)
    runs = [run for run, event in iter_logdir(logdir) if event.WhichOneof("what") == "summary"]
    assert runs == ["r1"] * 4 + ["r2"] * 2
    assert {run for run, _ in iter_logdir(logdir, runs=["r2"])} == {"r2"}


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda d: scalars(d, tags="a", as_frame=False), "tags"),
        (lambda d: scalars(d, runs="r1", as_frame=False), "runs"),
        (lambda d: scalars(d, tags=5, as_frame=False), "tags"),
        (lambda d: list(iter_logdir(d, runs="r1")), "runs"),
    ],
)
def test_one_name_instead_of_a_list_is_a_type_error(logdir, call, argument):
    """``tags="a"`` would filter on the characters of the string: say so instead of returning nothing."""
    _write_scalars(logdir / "r1", steps=2)
    with pytest.raises(TypeError, match=rf"^{argument}: expected a list \(or other collection\) of names"):
        call(logdir)
    assert list(scalars(logdir, tags=["a"], runs=("r1",), as_frame=False)["step"]) == [0, 1]


def test_scalars_fast_path_agrees_with_protobuf(logdir):
    rng = np.random.default_rng(0)
    tags = ["loss", "é/ünïcode", "x" * 127, "y" * 200, "z"]
    with SummaryWriter(logdir) as writer:
        for step in [0, 1, 127, 128, 2**21, 2**40, 2**62]:
            for tag in tags:
                writer.add_scalar(tag, float(rng.normal()), step, walltime=1.5e9 + step % 1000)
            writer.add_scalar("new", 2.5, step, new_style=True)
            writer.add_scalar("nan", math.nan, step)
    expected = [
        (v.tag, e.step, e.wall_time)
        for e in iter_run(logdir)
        if e.WhichOneof("what") == "summary"
        for v in e.summary.value
    ]
    table = scalars(logdir, as_frame=False)
    got = list(zip(table["tag"].tolist(), table["step"].tolist(), table["wall_time"].tolist(), strict=True))
    assert got == expected
    new = table["value"][table["tag"] == "new"]
    assert new.tolist() == [2.5] * 7
    assert np.isnan(table["value"][table["tag"] == "nan"]).all()
    only = scalars(logdir, tags=["z", "new", "y" * 200, "absent"], as_frame=False)
    chosen = np.isin(table["tag"], ["z", "new", "y" * 200])
    assert set(only["tag"]) == {"z", "new", "y" * 200}  # fast, new-style and long (protobuf path) tags
    for column, values in table.items():
        np.testing.assert_array_equal(only[column], values[chosen])


def test_fast_scalars_decode_only_the_wanted_tags(logdir):
    from tbcore.fastscalar import decode_block

    path = _write_scalars(logdir, steps=4, tags=("a", "b", "c"))
    (block,) = scan.iter_blocks(path)
    every = decode_block(block)
    some = decode_block(block, {"c", "a", "absent"})
    assert sorted(some.tags) == ["a", "c"] and some.others.tolist() == every.others.tolist() == [0]
    assert some.values.size == some.wall_times.size == some.steps.size == 8  # b's values are never gathered
    names = np.array(some.tags)[some.tag_ids]
    assert names.tolist() == ["a", "c"] * 4
    kept = np.isin(np.array(every.tags)[every.tag_ids], ["a", "c"])
    assert some.index.tolist() == every.index[kept].tolist() and some.values.tolist() == every.values[kept].tolist()


def test_other_records_are_those_decode_block_leaves_to_protobuf(logdir):
    from tbcore.fastscalar import decode_block, other_records

    with SummaryWriter(logdir) as writer:
        for step in range(3):
            writer.add_scalar("loss", step / 2, step)
            writer.add_histogram("weights", np.arange(5.0) + step, step)
            writer.add_scalars("pair", {"a": 1.0, "b": 2.0}, step)
            writer.add_text("note", f"step {step}", step)
    (path,) = list_runs(logdir)["."]
    (block,) = scan.iter_blocks(path)
    others = other_records(block)
    assert others.tolist() == decode_block(block).others.tolist()
    assert 0 < others.size < block.starts.size
    tags = {block.event(i).summary.value[0].tag for i in others.tolist() if block.event(i).summary.value}
    assert tags == {"weights", "note/text_summary"}


def test_tags_filter_gives_the_rows_of_the_whole_table(logdir):
    pd = pytest.importorskip("pandas")
    _write_scalars(logdir / "r1", steps=3, tags=("a", "b", "c"))
    _write_scalars(logdir / "r2", steps=2, tags=("c", "d"))
    whole = scalars(logdir)
    only = scalars(logdir, tags=["c", "a"])
    expected = whole[whole.tag.isin(["a", "c"])].reset_index(drop=True)
    expected["tag"] = expected["tag"].cat.remove_unused_categories()  # the other tags were never read
    pd.testing.assert_frame_equal(only, expected)


def test_scalars_dataframe(logdir):
    pd = pytest.importorskip("pandas")
    _write_scalars(logdir / "run1", steps=3)
    _write_scalars(logdir / "run2", steps=2, tags=("c",))
    frame_ = scalars(logdir)
    assert isinstance(frame_, pd.DataFrame)
    assert list(frame_.columns) == ["run", "tag", "step", "wall_time", "value"]
    assert frame_.groupby("run", observed=True).size().to_dict() == {"run1": 6, "run2": 2}
    assert frame_[frame_.tag == "b"].value.tolist() == pytest.approx([0.1, 1.1, 2.1])


def test_scalars_without_pandas_never_imports_it(logdir):
    _write_scalars(logdir, steps=2)
    code = (
        "import sys; sys.modules['pandas'] = None\n"
        "from tbcore.reader import scalars\n"
        f"t = scalars({str(logdir)!r})\n"
        "assert isinstance(t, dict) and t['value'].dtype.name == 'float64', t\n"
        "assert t['run'].tolist() == ['.'] * 4 and t['tag'].tolist() == ['a', 'b'] * 2\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    code = (
        "import sys\nfrom tbcore.reader import scalars\n"
        f"scalars({str(logdir)!r}, as_frame=False)\nassert 'pandas' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_logdir(tmp_path):
    with pytest.raises(FileNotFoundError, match="logdir: expected an existing directory"):
        scalars(tmp_path / "nope")


def test_not_an_event_proto(tmp_path):
    path = tmp_path / "events.out.tfevents.1.host"
    path.write_bytes(frame(b"\xff\xff\xff"))
    with pytest.raises(CorruptRecordError, match="not an Event proto") as info:
        list(iter_events(path))
    assert info.value.offset == 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert len(scalars(tmp_path, on_corrupt="warn", as_frame=False)["step"]) == 0
    assert any(issubclass(w.category, TbcoreReadWarning) for w in caught)


def test_tag_hash_collisions_never_merge_tags(logdir, monkeypatch):
    from tbcore import fastscalar

    monkeypatch.setattr(fastscalar, "_PRIME", np.uint64(0))  # every tag hashes alike
    _write_scalars(logdir, steps=3, tags=("a", "b", "bb", "ba"))
    assert scalars(logdir, as_frame=False)["tag"].tolist() == ["a", "b", "bb", "ba"] * 3


def test_following_a_growing_file_from_an_offset(logdir):
    path = _write_scalars(logdir, steps=4)
    offsets = _offsets(path)
    data = open(path, "rb").read()
    with open(path, "wb") as out:
        out.write(data[: offsets[5] + 20])  # the writer is in the middle of record 5
    seen = _offsets(path)
    assert seen == offsets[:5]
    with open(path, "wb") as out:
        out.write(data)  # record 5 completed
    next_offset = seen[-1] + 16 + len(list(iter_records(path))[4].data)  # just after the last record seen
    assert [r.offset for r in iter_records(path, start=next_offset)] == offsets[5:]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_files_never_crash_the_reader(tmp_path_factory, data):
    logdir = tmp_path_factory.mktemp("fuzz")
    path = _write_scalars(logdir, steps=6, tags=("a", "bb"))
    original = open(path, "rb").read()
    good = [r.data for r in iter_records(path)]
    damaged = bytearray(original[: data.draw(st.integers(0, len(original)))])
    for _ in range(data.draw(st.integers(0, 3))):
        if damaged:
            damaged[data.draw(st.integers(0, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    with open(path, "wb") as out:
        out.write(bytes(damaged))
    read = []
    try:
        read = [r.data for r in iter_records(path)]
    except CorruptRecordError as error:
        assert error.path == path and 0 <= error.offset < len(damaged)
    assert read == good[: len(read)]  # with CRCs on, whatever is read is what was written
    for check_crc in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TbcoreReadWarning)
            table = scalars(logdir, check_crc=check_crc, on_corrupt="warn", as_frame=False)
        assert len(table["step"]) == len(table["value"]) <= 12 + len(damaged) // 16


def test_reader_and_cli_import_no_framework():
    code = (
        "import sys, tbcore.reader, tbcore.cli\n"
        "heavy = [m for m in ('pandas', 'torch', 'jax', 'PIL', 'matplotlib', 'tensorflow', 'tensorboard')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
