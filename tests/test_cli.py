"""The ``tbcore`` command line, run as a subprocess (``python -m tbcore``)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys

import pytest

from tbcore import SummaryWriter
from tbcore.reader import iter_records, list_runs


def tbcore(*args, env=None, check_exit=0):
    done = subprocess.run(
        [sys.executable, "-m", "tbcore", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, **(env or {})},
    )
    if check_exit is not None:
        assert done.returncode == check_exit, done.stderr + done.stdout
    return done


def _small_logdir(logdir):
    with SummaryWriter(logdir / "train") as writer:
        for step in range(5):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            writer.add_histogram("w", [1.0, 2.0, float(step)], step)
        writer.add_text("note", "hello", 1)
    return logdir


@pytest.mark.slow
def test_demo_writes_every_installed_type_and_reads_it_back(tmp_path):
    from tbcore import plugins

    out = tmp_path / "demo"
    done = tbcore("demo", out)
    assert "tensorboard --logdir" in done.stdout
    for kind in plugins.summary_types():
        assert kind in done.stdout
    runs = list_runs(out)
    assert "." in runs and "loss_train" in runs
    report = json.loads(tbcore("inspect", out, "--json").stdout)
    tags = {plugin for run in report["runs"] for plugin in run["tags"]}
    assert {"scalars", "histograms", "text"} <= tags


def test_inspect_text_and_json(logdir):
    _small_logdir(logdir)
    done = tbcore("inspect", logdir)
    assert "run 'train'" in done.stdout and "loss" in done.stdout and "steps 0..4" in done.stdout
    report = json.loads(tbcore("inspect", logdir, "--json").stdout)
    (run,) = report["runs"]
    assert run["name"] == "train" and run["files"] == 1
    loss = run["tags"]["scalars"]["loss"]
    assert (loss["count"], loss["first_step"], loss["last_step"], loss["duplicate_steps"]) == (5, 0, 4, 0)
    assert run["tags"]["histograms"]["w"]["count"] == 5
    assert run["tags"]["text"]["note/text_summary"]["count"] == 1
    assert report["warnings"] == []


def test_inspect_warns_about_duplicates_nan_wall_times_and_corruption(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("dup", 1.0, 3)
        writer.add_scalar("dup", 2.0, 3)
        writer.file_writer.add_summary(_summary("nanwall"), 1, walltime=1.0)
    (path,) = list_runs(logdir)["."]
    _set_last_wall_time_nan(path)
    with SummaryWriter(logdir / "broken") as writer:
        for step in range(4):
            writer.add_scalar("x", step, step)
    (broken,) = list_runs(logdir)["broken"]
    offsets = [r.offset for r in iter_records(broken)]
    data = bytearray(open(broken, "rb").read())
    data[offsets[2] + 14] ^= 0xFF
    open(broken, "wb").write(bytes(data))

    report = json.loads(tbcore("inspect", logdir, "--json").stdout)
    text = "\n".join(report["warnings"])
    assert "'dup': 1 duplicate step" in text
    assert "'nanwall': 1 NaN wall time" in text
    assert f"corrupt record at offset {offsets[2]}" in text
    assert "broken" in text
    assert tbcore("inspect", logdir, "--strict", check_exit=1).returncode == 1


def _summary(tag):
    from tbcore.proto import summary_pb2

    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=1.0)])


def _set_last_wall_time_nan(path):
    """Rewrite the file with the last event's wall time set to NaN (re-framed, so CRCs stay valid)."""
    from tbcore.proto import event_pb2
    from tbcore.record import frame

    records = [r.data for r in iter_records(path)]
    event = event_pb2.Event.FromString(records[-1])
    event.wall_time = math.nan
    records[-1] = event.SerializeToString()
    with open(path, "wb") as out:
        out.write(b"".join(frame(r) for r in records))


def test_export_csv_json_parquet(logdir, tmp_path):
    _small_logdir(logdir)
    rows = list(csv.DictReader(io.StringIO(tbcore("export", logdir).stdout)))
    assert [r["step"] for r in rows] == ["0", "1", "2", "3", "4"]
    assert rows[1]["run"] == "train" and rows[1]["tag"] == "loss" and float(rows[1]["value"]) == 0.5
    records = json.loads(tbcore("export", logdir, "--format", "json").stdout)
    assert records[0] == {"run": "train", "tag": "loss", "step": 0, "wall_time": records[0]["wall_time"], "value": 1.0}
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    out = tmp_path / "scalars.parquet"
    tbcore("export", logdir, "--format", "parquet", "--out", out)
    frame = pd.read_parquet(out)
    assert frame["value"].tolist() == pytest.approx([1, 0.5, 1 / 3, 0.25, 0.2])
    many = tmp_path / "many"
    tbcore("export", logdir, "--format", "json", "--plugins", "scalars", "histograms", "text", "--out", many)
    histograms = json.loads((many / "histograms.json").read_text())
    assert histograms[-1]["value"]["max"] == 4.0 and len(histograms) == 5
    assert json.loads((many / "text.json").read_text())[0]["value"] == "hello"


def test_plugins_lists_types_adapters_and_broken_entry_points(tmp_path):
    done = tbcore("plugins")
    assert "scalar" in done.stdout and "from scalar (tbcore)" in done.stdout
    assert "numpy_adapter (tbcore)" in done.stdout
    dist = tmp_path / "site" / "tbcore_broken-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tbcore-broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[tbcore]\nbroken = tbcore_no_such_module\n")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path / "site"), os.environ.get("PYTHONPATH")]))}
    report = json.loads(tbcore("plugins", "--json", env=env).stdout)
    assert "broken" in report["failed"] and "tbcore-broken" in report["failed"]["broken"]
    assert {t["name"] for t in report["summary_types"]} >= {"scalar", "histogram", "text", "tensor"}
    assert "failed to load" in tbcore("plugins", env=env).stdout


def test_error_exits(tmp_path):
    done = tbcore("inspect", tmp_path / "missing", check_exit=1)
    assert "does not exist" in done.stderr and "Traceback" not in done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    for command in ("inspect", "export"):
        done = tbcore(command, empty, check_exit=1)
        assert "holds no event files" in done.stderr
    dangling = tmp_path / "dangling"
    dangling.mkdir()
    os.symlink(tmp_path / "nowhere", dangling / "events.out.tfevents.1.host")
    done = tbcore("inspect", dangling, check_exit=1)
    assert "cannot read" in done.stderr and "events.out.tfevents.1.host" in done.stderr
    done = tbcore("export", dangling, check_exit=1)
    assert "tbcore: error:" in done.stderr and "Traceback" not in done.stderr
    assert tbcore("export", empty, "--format", "xml", check_exit=2).returncode == 2


def test_export_of_a_corrupt_file(logdir):
    _small_logdir(logdir)
    (path,) = list_runs(logdir)["train"]
    offsets = [r.offset for r in iter_records(path)]
    data = bytearray(open(path, "rb").read())
    data[offsets[3] + 14] ^= 0xFF
    open(path, "wb").write(bytes(data))
    done = tbcore("export", logdir, check_exit=1)
    assert f"corrupt record at offset {offsets[3]}" in done.stderr
    done = tbcore("export", logdir, "--skip-corrupt")
    assert "TbcoreReadWarning" in done.stderr or "corrupt record" in done.stderr


def test_export_keeps_infinities_in_csv_and_writes_null_in_json(logdir):
    with SummaryWriter(logdir) as writer:
        for step, value in enumerate((math.inf, -math.inf, math.nan, 1.5)):
            writer.add_scalar("x", value, step)
    rows = list(csv.DictReader(io.StringIO(tbcore("export", logdir).stdout)))
    assert [r["value"] for r in rows] == ["inf", "-inf", "nan", "1.5"]
    records = json.loads(tbcore("export", logdir, "--format", "json").stdout)
    assert [r["value"] for r in records] == [None, None, None, 1.5]


@pytest.mark.slow
def test_demo_serve_starts_tensorboard_on_the_demo(tmp_path):
    """``tbcore demo --serve`` writes the demo, then serves it until Ctrl-C (here SIGINT to its group)."""
    import signal
    import time
    import urllib.request

    from tbcore.testing import free_port

    port = free_port()
    command = [sys.executable, "-m", "tbcore", "demo", str(tmp_path / "demo"), "--serve", "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        runs, deadline = [], time.monotonic() + 180
        while "loss_train" not in runs and time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=5) as response:
                    runs = json.load(response)
            except OSError:
                time.sleep(0.5)
        assert "loss_train" in runs and "." in runs
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
