"""tbcore: TensorBoard event files from numpy, PyTorch, JAX or plain Python, without TensorFlow.

Importing tbcore imports numpy, protobuf and pluggy only; framework support is loaded
when a value of that framework is first logged.

>>> from tbcore import SummaryWriter
>>> with SummaryWriter("runs/demo") as writer:
...     writer.add_scalar("loss", 0.5, global_step=1)
"""

from __future__ import annotations

from tbcore import images, summary
from tbcore.adapters import ArrayAdapter, as_float, as_numpy, lazy_issubclass
from tbcore.compat import SummaryWriter
from tbcore.encoded import Asset, Encoded, GraphBuilder
from tbcore.errors import DeferredValueError, PluginError, SummaryTypeConflict, UnknownSummaryType, invalid
from tbcore.hookspecs import PROJECT_NAME, hookimpl, hookspec
from tbcore.plugins import TbcorePluginWarning
from tbcore.registry import SummaryType
from tbcore.tensor import (
    DTYPE_TO_ENUM,
    SMALL_FLOATS,
    make_tensor_proto,
    real_array,
    reject_nan,
    summary_metadata,
    tensor_summary,
    tensor_to_numpy,
)
from tbcore.validate import check_positive, check_step, check_tag, check_walltime
from tbcore.writer import FileWriter, Writer

__version__ = "0.1.0"  #: the version of this tbcore package

__all__ = [
    "DTYPE_TO_ENUM",
    "PROJECT_NAME",
    "SMALL_FLOATS",
    "ArrayAdapter",
    "Asset",
    "DeferredValueError",
    "Encoded",
    "FileWriter",
    "GraphBuilder",
    "PluginError",
    "SummaryType",
    "SummaryTypeConflict",
    "SummaryWriter",
    "TbcorePluginWarning",
    "UnknownSummaryType",
    "Writer",
    "__version__",
    "as_float",
    "as_numpy",
    "check_positive",
    "check_step",
    "check_tag",
    "check_walltime",
    "hookimpl",
    "hookspec",
    "images",
    "invalid",
    "lazy_issubclass",
    "summary",
    "make_tensor_proto",
    "real_array",
    "reject_nan",
    "summary_metadata",
    "tensor_summary",
    "tensor_to_numpy",
]
