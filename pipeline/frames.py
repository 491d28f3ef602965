"""Length-prefixed frames on a pipe: how the build talks to its worker processes (Great Expectations',
expectations/worker.py; dbt's, pipeline/dbt_worker.py)."""

from __future__ import annotations

from typing import BinaryIO


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    """One frame: its length (8 bytes, big-endian), then `payload`; flushed."""
    stream.write(len(payload).to_bytes(8, "big") + payload)
    stream.flush()


def read_frame(stream: BinaryIO) -> bytes | None:
    """The next frame's payload; None at the end of the stream (or a frame cut short)."""
    head = stream.read(8)
    if len(head) < 8:
        return None
    size = int.from_bytes(head, "big")
    payload = stream.read(size)
    return payload if len(payload) == size else None
