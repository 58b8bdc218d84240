"""Regenerate ``src/tbcore/proto/*_pb2.py`` (and ``.pyi``) from the ``.proto`` sources next to them.

Run from anywhere: ``python tools/gen_protos.py``.

The modules are generated with the ``protoc`` bundled in **grpcio-tools 1.62.3**
(libprotoc 25.1, "Protobuf Python Version: 4.25.1"), pinned in :data:`GRPCIO_TOOLS`.
That gencode has no runtime version check and uses only the ``builder`` API that
protobuf has had since 3.20, so the same files import, write and read under every
protobuf runtime from 3.20.3 to 7.36 (checked in throwaway venvs with 3.20.3, 4.21.12,
4.25.9, 5.26.1, 5.29.6, 6.30.0, 6.33.6, 7.34.0 and 7.36.2, upb and pure-Python
backends). A newer protoc (26+) writes ``ValidateProtobufRuntimeVersion(...)`` into
every module, which refuses any runtime older than the protoc itself: do not upgrade the
pin without checking the oldest declared protobuf again (``.ci/run core-oldest``).

If the running interpreter does not have that exact grpcio-tools, the script creates a
temporary venv, installs it there (needs PyPI), and runs protoc from it.
"""

from __future__ import annotations

import importlib.metadata
import pathlib
import subprocess
import sys
import tempfile
import venv

GRPCIO_TOOLS = "1.62.3"  #: bundles libprotoc 25.1; see the module docstring before changing it

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

_PROTOC = """
import os, sys
from grpc_tools import protoc
include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
sys.exit(protoc.main(["protoc", "-I" + sys.argv[1], "-I" + include] + sys.argv[2:]))
"""


def _has_pinned_tools() -> bool:
    try:
        return importlib.metadata.version("grpcio-tools") == GRPCIO_TOOLS
    except importlib.metadata.PackageNotFoundError:
        return False


def _run_protoc(python: str, args: list[str]) -> int:
    return subprocess.call([python, "-c", _PROTOC, str(SRC), *args])


def main() -> int:
    """Compile every .proto under src/tbcore/proto into Python modules (and stubs) beside it."""
    protos = sorted((SRC / "tbcore" / "proto").glob("*.proto"))
    args = [f"--python_out={SRC}", f"--pyi_out={SRC}", *(str(p.relative_to(SRC)) for p in protos)]
    if _has_pinned_tools():
        status = _run_protoc(sys.executable, args)
    else:
        with tempfile.TemporaryDirectory(prefix="tbcore-protoc-") as tmp:
            venv.create(tmp, with_pip=True)
            python = str(pathlib.Path(tmp) / "bin" / "python")
            subprocess.check_call([python, "-m", "pip", "install", "-q", f"grpcio-tools=={GRPCIO_TOOLS}"])
            status = _run_protoc(python, args)
    if status:
        print(f"protoc failed with status {status}", file=sys.stderr)
    return int(status)


if __name__ == "__main__":
    raise SystemExit(main())
