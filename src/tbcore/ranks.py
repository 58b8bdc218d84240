"""Which process of a multi-process job writes, and the do-nothing writers of the others.

The rank of this process is taken, in this order, from:

1. ``torch.distributed`` when it is imported and its default process group is initialized
   (``get_rank()``);
2. JAX when it is imported and ``jax.distributed.initialize()`` was called (its process id);
3. the first of these environment variables that holds an integer: ``RANK`` (torchrun,
   Lightning, Accelerate, DeepSpeed), ``SLURM_PROCID`` (srun), ``OMPI_COMM_WORLD_RANK``
   (Open MPI), ``PMI_RANK`` (MPICH, Intel MPI), ``PMIX_RANK`` (PMIx launchers);
4. JAX when its backends are already initialized and see several processes (a TPU pod
   without ``jax.distributed``): ``jax.process_index()``. A single-process JAX comes after
   the environment, since every rank of a torchrun job that also uses JAX is JAX's process 0;
5. otherwise 0.

tbcore never initializes JAX's backends itself.

``LOCAL_RANK`` is not used: it is the rank within one host, so on several hosts it would
make one writer per host.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from typing import Any

from tbcore.errors import invalid

__all__ = ["RANK_ENV_VARS", "deactivate", "process_rank", "writing_rank"]

RANK_ENV_VARS = ("RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")
_INACTIVE: dict[type, type] = {}


def process_rank() -> int:
    """Return this process's global rank in its job (0 when it is not part of one)."""
    for detect in (_torch_rank, _jax_distributed_rank, _env_rank, _jax_backend_rank):
        rank = detect()
        if rank is not None:
            return rank
    return 0


def _torch_rank() -> int | None:
    dist = sys.modules.get("torch.distributed")
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return None
    return int(dist.get_rank())


def _jax_module(name: str) -> Any:
    """Return ``jax._src.<name>`` if JAX is imported (private modules, so guarded), else None."""
    if "jax" not in sys.modules:
        return None
    try:
        return importlib.import_module(f"jax._src.{name}")
    except ImportError:
        return None


def _jax_distributed_rank() -> int | None:
    state = getattr(_jax_module("distributed"), "global_state", None)
    if getattr(state, "client", None) is None or getattr(state, "process_id", None) is None:
        return None
    return int(state.process_id)  # type: ignore[union-attr]


def _jax_backend_rank() -> int | None:
    initialized = getattr(_jax_module("xla_bridge"), "backends_are_initialized", None)
    if initialized is None or not initialized():
        return None
    jax = sys.modules["jax"]
    return int(jax.process_index()) if jax.process_count() > 1 else None


def _env_rank() -> int | None:
    for name in RANK_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return None


def writing_rank(rank: Any, all_ranks: bool) -> int | None:
    """Return the rank a new writer writes as, or None if it must stay inactive.

    :param rank: the caller's rank, or None to detect it (see the module docstring).
    :param all_ranks: every rank writes (into its own run); otherwise only rank 0 does.
    """
    if rank is None:
        rank = process_rank()
    elif rank.__class__ is not int:
        raise invalid("rank", "an int >= 0, or None to detect it", rank, kind=TypeError)
    elif rank < 0:
        raise invalid("rank", "an int >= 0, or None to detect it", rank)
    if not isinstance(all_ranks, bool):
        raise invalid("all_ranks", "a bool", all_ranks, kind=TypeError)
    return rank if all_ranks or rank == 0 else None


def deactivate(writer: Any) -> None:
    """Turn ``writer`` into one that accepts every call and does nothing (no files, no thread)."""
    writer.__class__ = inactive_class(type(writer))


def inactive_class(cls: type) -> type:
    """Return a subclass of ``cls`` whose public methods do nothing (``get_logdir`` still answers).

    ``file_writer`` and ``_get_file_writer()`` return an inactive file writer, so integrations
    that write through it do nothing too.
    """
    made = _INACTIVE.get(cls)
    if made is not None:
        return made
    namespace: dict[str, Any] = {"__doc__": f"{cls.__name__} of a process that does not write (see tbcore.ranks)."}
    for name in dir(cls):
        if name.startswith("_") or name == "get_logdir":
            continue
        attr = getattr(cls, name)
        if name == "file_writer":
            namespace[name] = property(_inactive_file_writer)
        elif callable(attr):
            namespace[name] = _ignore_calls(attr)
    if hasattr(cls, "_get_file_writer"):
        namespace["_get_file_writer"] = _inactive_file_writer
    made = _INACTIVE[cls] = type(f"Inactive{cls.__name__}", (cls,), namespace)
    return made


def _ignore_calls(method: Any) -> Any:
    @functools.wraps(method)
    def ignore(self: Any, *args: Any, **kwargs: Any) -> None:
        return None

    return ignore


def _inactive_file_writer(writer: Any) -> Any:
    from tbcore.writer import FileWriter

    return inactive_class(FileWriter)(writer)
