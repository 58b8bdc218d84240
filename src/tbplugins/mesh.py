"""3D meshes and point clouds for TensorBoard's Mesh dashboard (``add_mesh``).

One mesh is up to three tensor values in one ``Summary``: ``<tag>_VERTEX`` (float32),
``<tag>_FACE`` (int32) and ``<tag>_COLOR`` (uint8), each of shape ``[B, N, 3]``. They
share the user-facing name ``tag`` and a JSON scene configuration in their metadata.
torch writes all three as float32; TensorBoard casts them anyway, so both display the same.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

import tbcore
from tbcore.proto import plugin_mesh_pb2, summary_pb2

PLUGIN_NAME = "mesh"
PROTO_VERSION = 0

VERTEX = plugin_mesh_pb2.MeshPluginData.VERTEX
FACE = plugin_mesh_pb2.MeshPluginData.FACE
COLOR = plugin_mesh_pb2.MeshPluginData.COLOR


def instance_tag(tag: str, content_type: plugin_mesh_pb2.MeshPluginData.ContentType) -> str:
    """Return the tag of one part of a mesh, e.g. ``"cloud_VERTEX"``."""
    return f"{tag}_{plugin_mesh_pb2.MeshPluginData.ContentType.Name(content_type)}"


def metadata(
    tag: str,
    content_type: plugin_mesh_pb2.MeshPluginData.ContentType,
    components: int,
    shape: tuple[int, ...],
    json_config: str,
) -> summary_pb2.SummaryMetadata:
    """Return the ``mesh`` plugin metadata of one part (``VERTEX``, ``FACE`` or ``COLOR``) of mesh ``tag``."""
    content = plugin_mesh_pb2.MeshPluginData(
        version=PROTO_VERSION,
        name=tag,
        content_type=content_type,
        json_config=json_config,
        shape=list(shape),
        components=components,
    )
    return tbcore.summary_metadata(PLUGIN_NAME, content.SerializeToString())


def _part(array: np.ndarray, argument: str, prefix: tuple[int, ...] = ()) -> np.ndarray:
    """Check that ``array`` is a ``(B, N, 3)`` array of finite real numbers whose shape starts with ``prefix``."""
    array = tbcore.real_array(array, argument, "a (B, N, 3) array of real numbers")
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[: len(prefix)] != prefix:
        dims = [str(d) for d in prefix] + ["B", "N"][len(prefix) :] + ["3"]
        raise tbcore.invalid(argument, f"an array of shape ({', '.join(dims)})", array)
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise tbcore.invalid(argument, "finite values (no NaN or infinity)", array)
    return array


def _faces(faces: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    faces = _part(faces, "faces", vertices.shape[:1])
    if faces.dtype.kind == "f" and not np.all(faces == np.floor(faces)):
        raise tbcore.invalid("faces", "integer vertex indices", faces)
    if faces.size and (faces.min() < 0 or faces.max() >= vertices.shape[1]):
        raise ValueError(
            f"faces: expected vertex indices in [0, {vertices.shape[1] - 1}] (vertices has "
            f"{vertices.shape[1]} points), got indices from {faces.min()} to {faces.max()}"
        )
    return faces.astype(np.int32)


def _colors(colors: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    colors = _part(colors, "colors", vertices.shape[:2])
    if colors.size and (colors.min() < 0 or colors.max() > 255):
        raise tbcore.invalid("colors", "RGB values in [0, 255]", colors)
    return np.rint(colors).astype(np.uint8) if colors.dtype.kind == "f" else colors.astype(np.uint8)


def json_config(config_dict: Any) -> str:
    """Return the scene configuration as JSON (``"{}"`` for None), keys sorted as torch writes them."""
    if config_dict is None:
        return "{}"
    if not isinstance(config_dict, dict):
        raise tbcore.invalid("config_dict", "a dict of three.js settings, or None", config_dict, kind=TypeError)
    try:
        return json.dumps(config_dict, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"config_dict: expected a JSON-serializable dict, got one that fails: {exc}") from None


def encode(
    tag: str,
    vertices: np.ndarray,
    *,
    colors: np.ndarray | None = None,
    faces: np.ndarray | None = None,
    config_dict: dict[str, Any] | None = None,
) -> summary_pb2.Summary:
    """Return one Summary with the vertices, faces and colors of mesh ``tag``.

    :param vertices: ``(B, N, 3)`` coordinates, stored as float32.
    :param colors: ``(B, N, 3)`` RGB values in [0, 255] per vertex, stored as uint8.
    :param faces: ``(B, F, 3)`` vertex indices of triangles, stored as int32; each index < N.
    :param config_dict: three.js settings (camera, lights, material), stored as JSON.
    """
    vertices = _part(vertices, "vertices")
    config = json_config(config_dict)
    parts = [(VERTEX, vertices.astype(np.float32))]
    if faces is not None:
        parts.append((FACE, _faces(faces, vertices)))
    if colors is not None:
        parts.append((COLOR, _colors(colors, vertices)))
    components = 0
    for content_type, _ in parts:
        components |= 1 << content_type
    values = [
        summary_pb2.Summary.Value(
            tag=instance_tag(tag, content_type),
            metadata=metadata(tag, content_type, components, array.shape, config),
            tensor=tbcore.make_tensor_proto(array),
        )
        for content_type, array in parts
    ]
    return summary_pb2.Summary(value=values)


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``mesh``."""
    return [
        tbcore.SummaryType(
            name="mesh",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="3D mesh or point cloud with optional faces and colors (add_mesh)",
            array_options=frozenset({"colors", "faces"}),
        )
    ]
