#!/usr/bin/env bash
# Every check that needs a GPU, in one command: bash benchmarks/gpu_check.sh [RESULTS_DIR]
#
# Runs the gpu-marked tests (CUDA tensors and JAX device arrays through the adapters) and
# `python -m benchmarks.gpu` (step time of a training loop logging its loss). Writes
# device.txt, pytest.log, gpu.txt and gpu.json into RESULTS_DIR (default: gpu-results).
# Needs tbcore installed (with its entry points) and torch/JAX built for the accelerator.
set -uo pipefail
results=${1:-gpu-results}
python=${PYTHON:-python3}
mkdir -p "$results"
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false  # torch and JAX share the GPU in one process

{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  "$python" -c "import tbcore, torch, jax; print('tbcore', tbcore.__version__, 'torch', torch.__version__, 'jax', jax.__version__, jax.devices())"
} >"$results/device.txt" 2>&1
cat "$results/device.txt"

"$python" -m pytest -q -m gpu -p no:cacheprovider \
  tests/test_gpu_scalars.py tests/test_adapters_torch.py tests/test_adapters_jax.py 2>&1 | tee "$results/pytest.log"
tests=${PIPESTATUS[0]}
"$python" -m benchmarks.gpu --json "$results/gpu.json" 2>&1 | tee "$results/gpu.txt"
bench=${PIPESTATUS[0]}
exit $((tests || bench))
