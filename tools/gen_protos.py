"""Regenerate ``src/tbcore/proto/*_pb2.py`` from the ``.proto`` sources next to them.

Run from the repository root: ``python tools/gen_protos.py``. Needs ``grpcio-tools``
(which bundles ``protoc``); see docs/development.md for the pinned version.
"""

from __future__ import annotations

import pathlib
import sys

from grpc_tools import protoc  # type: ignore[import-untyped]

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def main() -> int:
    """Compile every .proto under src/tbcore/proto into Python modules beside it."""
    protos = sorted((SRC / "tbcore" / "proto").glob("*.proto"))
    include = pathlib.Path(protoc.__file__).parent / "_proto"
    args = ["protoc", f"-I{SRC}", f"-I{include}", f"--python_out={SRC}", f"--pyi_out={SRC}"]
    args += [str(p.relative_to(SRC)) for p in protos]
    status = protoc.main(args)
    if status:
        print(f"protoc failed with status {status}", file=sys.stderr)
    return int(status)


if __name__ == "__main__":
    raise SystemExit(main())
