"""The benchmark keeps working (no timing is asserted: numbers live in docs/performance.md)."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import pytest
from benchmarks import child
from benchmarks.workloads import WORKLOADS, by_name

from tbcore.reader import list_runs
from tbcore.testing import tensorboard_accumulator

ROOT = pathlib.Path(__file__).resolve().parents[1]


def installed(module: str) -> bool:
    """Whether the top-level package of ``module`` is installed."""
    return importlib.util.find_spec(module.partition(".")[0]) is not None


@pytest.mark.parametrize("workload", [w.name for w in WORKLOADS])
def test_every_workload_runs_with_tbcore(workload, tmp_path):
    result = child.main_result(workload, "tbcore", str(tmp_path), 2)
    if "missing" in result and not installed(result["missing"]):
        pytest.skip(f"the workload needs {result['missing']}, which is not installed")
    assert result["status"] == "ok", result.get("reason")  # every type and dependency the workload needs is here
    if by_name()[workload].direct is not None:  # no writer of its own: readers and encoders check their results
        return
    seen = {
        run: tensorboard_accumulator(os.path.dirname(files[0])).Tags() for run, files in list_runs(tmp_path).items()
    }
    has_data = any(tags["tensors"] or tags["graph"] for tags in seen.values())
    projector = any(name == "projector_config.pbtxt" for _, _, names in os.walk(tmp_path) for name in names)
    assert has_data or (workload.startswith("embedding") and projector), f"TensorBoard sees no data: {seen}"


@pytest.mark.slow
def test_quick_run_writes_a_table_and_json(tmp_path):
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "benchmarks.run", "--quick", "--scale", "0.005", "--json", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| scalar_float | calling thread, µs/call |" in done.stdout
    assert "| target | measured | met |" in done.stdout
    report = json.loads(out.read_text())
    assert set(report["results"]) == {w.name for w in WORKLOADS}
    for name, per_impl in report["results"].items():
        for impl, result in per_impl.items():
            assert result["status"] in ("ok", "n/a"), (name, impl, result.get("reason"))
    assert report["machine"]["cpus"]
    assert "| png_smooth_512 | output of one call, KiB |" in done.stdout
    if installed("fsspec"):
        assert report["results"]["remote_2000x100"]["tbcore"]["puts"] >= 1


def test_remote_flushes_counts_every_upload(tmp_path):
    pytest.importorskip("fsspec")
    result = child.main_result("remote_2000x100", "tbcore", str(tmp_path), 3)
    assert result["status"] == "ok", result.get("reason")
    assert result["puts"] >= 3 and result["segments"] >= 1  # one upload per flush at least
    assert result["uploaded_mb"] >= result["stored_mb"] > 0


def test_png_encoders_report_their_output_size(tmp_path):
    sizes = {
        impl: child.main_result("png_smooth_512", impl, str(tmp_path), 1)["output_kib"]
        for impl in ("tbcore", "Up+level1")
    }
    assert sizes["tbcore"] == pytest.approx(sizes["Up+level1"], rel=0.01)  # a smooth image: tbcore picks level 1


def test_gpu_benchmark_says_skipped_without_an_accelerator(capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is present: the GPU benchmark would run for real")
    from benchmarks import gpu

    assert gpu.main(["--steps", "1", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "torch: skipped: no CUDA" in out
    assert "jax: skipped:" in out
