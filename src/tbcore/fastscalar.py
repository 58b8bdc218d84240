"""Decoding legacy scalar events straight from their wire bytes, a whole block at a time.

Every writer (tbcore, torch, tensorboardX, TensorFlow) serializes ``add_scalar`` the
same way: ``Event{wall_time, step, summary{value{tag, simple_value}}}``, whose bytes are
``09 <f64> [10 <varint step>] 2a <n> 0a <n> 0a <tag length> <tag> 15 <f32>``. This module
recognises that exact layout with numpy over all records of a :class:`tbcore.scan.Block`
and decodes them without building protobuf objects. Records of any other shape (other
summaries, several values in one event, tags of 128 bytes or more) are left for the
protobuf path.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from tbcore.scan import Block, gather

__all__ = ["FastScalars", "decode_block", "other_records"]


@dataclass(frozen=True, slots=True)
class FastScalars:
    """The scalar records of one block: ``index`` into the block's records and their decoded fields.

    ``others`` indexes the records that are not plain scalar events (for the protobuf path).
    """

    index: np.ndarray
    others: np.ndarray
    tags: list[str]
    tag_ids: np.ndarray
    steps: np.ndarray
    wall_times: np.ndarray
    values: np.ndarray


def _varint(u8: np.ndarray, at: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode a varint at ``at`` where ``present``; return ``(value as int64, position after it, complete)``."""
    value = np.zeros(at.size, np.uint64)
    position = at.copy()
    going = present.copy()
    last = u8.size - 1
    for shift in range(0, 70, 7):
        byte = u8[np.minimum(position, last)].astype(np.uint64)
        value |= np.where(going, (byte & np.uint64(0x7F)) << np.uint64(min(shift, 63)), np.uint64(0))
        position = np.where(going, position + 1, position)
        going &= byte >= 0x80
        if not going.any():
            break
    return value.view(np.int64), position, ~going


_PRIME = np.uint64(0x100000001B3)


def _tag_ids(u8: np.ndarray, first: np.ndarray, length: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Return the distinct tags (decoded once each) and each record's index into them.

    The tag bytes are laid out as rows of a zero-padded matrix, hashed eight bytes at a
    time, grouped by hash with one ``np.unique``, and every row is then compared with its
    group's first row, so a hash collision can never merge two tags.
    """
    if first.size == 0:
        return [], np.zeros(0, np.int64)
    width = -(-int(length.max()) // 8) * 8 or 8
    columns = np.arange(width)
    rows = u8[np.minimum(first[:, None] + columns, u8.size - 1)]
    rows[columns >= length[:, None]] = 0
    digest = length.astype(np.uint64) * _PRIME
    for word in rows.view("<u8").T:
        digest = (digest ^ word) * _PRIME
    _, representative, ids = np.unique(digest, return_index=True, return_inverse=True)
    ids = ids.reshape(-1)
    exact = bool((rows == rows[representative[ids]]).all() and (length == length[representative[ids]]).all())
    if not exact:  # a hash collision: group by the bytes themselves
        keyed = np.concatenate([length[:, None].astype(np.uint8), rows], axis=1)
        _, representative, ids = np.unique(
            keyed.view(np.dtype((np.void, width + 1))).reshape(-1), return_index=True, return_inverse=True
        )
        ids = ids.reshape(-1)
    tags = [bytes(rows[i, : length[i]]).decode("utf-8", errors="replace") for i in representative.tolist()]
    return tags, ids.astype(np.int64)


def _only(tags: list[str], tag_ids: np.ndarray, wanted: Collection[str]) -> tuple[list[str], np.ndarray]:
    """Return the ``wanted`` ones of ``tags`` and the records' ids into them (-1 for the other tags)."""
    kept = [i for i, tag in enumerate(tags) if tag in wanted]
    renumber = np.full(len(tags), -1, np.int64)
    renumber[kept] = np.arange(len(kept))
    return [tags[i] for i in kept], renumber[tag_ids]


def _layout(block: Block) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Recognise the plain scalar records of ``block``.

    :returns: ``(u8, data, ok, steps, pos, tag_length)``: the buffer as bytes, each record's data
        offset, whether it is a plain scalar event, its step, and where its summary and tag length are.
    """
    u8 = np.frombuffer(block.buf, np.uint8)
    last = u8.size - 1

    def at(position: np.ndarray) -> np.ndarray:
        return u8[np.minimum(position, last)]

    data = block.starts + 12
    end = data + block.lengths
    ok = (block.lengths >= 20) & (at(data) == 0x09)  # 20: no step, an empty tag
    has_step = at(data + 9) == 0x10
    steps, after_step, complete = _varint(u8, data + 10, has_step & ok)
    ok &= complete
    pos = np.where(has_step, after_step, data + 9)
    tag_length = at(pos + 5).astype(np.int64)
    ok &= (at(pos) == 0x2A) & (at(pos + 2) == 0x0A) & (at(pos + 4) == 0x0A) & (tag_length < 128)
    ok &= (at(pos + 1) == tag_length + 9) & (at(pos + 3) == tag_length + 7)
    ok &= (at(pos + 6 + tag_length) == 0x15) & (pos + 11 + tag_length == end)
    return u8, data, ok, steps, pos, tag_length


def other_records(block: Block) -> np.ndarray:
    """Return the indices of the records of ``block`` that are not plain scalar events (nothing is decoded)."""
    return np.flatnonzero(~_layout(block)[2])


def decode_block(block: Block, tags: Collection[str] | None = None) -> FastScalars:
    """Decode every record of ``block`` that is a plain legacy scalar event.

    :param tags: decode only the values of these tags (the others are recognised, not decoded).
    """
    u8, data, ok, steps, pos, tag_length = _layout(block)
    index = np.flatnonzero(ok)
    others = np.flatnonzero(~ok)
    pos, tag_length = pos[index], tag_length[index]
    names, tag_ids = _tag_ids(u8, pos + 6, tag_length)
    if tags is not None:
        names, tag_ids = _only(names, tag_ids, tags)
        chosen = tag_ids >= 0
        index, pos, tag_length, tag_ids = index[chosen], pos[chosen], tag_length[chosen], tag_ids[chosen]
    return FastScalars(
        index=index,
        others=others,
        tags=names,
        tag_ids=tag_ids,
        steps=steps[index],
        wall_times=gather(u8, data[index] + 1, 8, "<f8"),
        values=gather(u8, pos + 7 + tag_length, 4, "<f4").astype(np.float64),
    )
