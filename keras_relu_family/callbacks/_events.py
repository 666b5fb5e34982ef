"""TensorBoard event files without TensorFlow, for the JAX and PyTorch monitors.

The ``tensorboard`` package's own event-file writer (the one
``torch.utils.tensorboard`` uses) and protocol buffers. Scalars are written
as TensorFlow 2 writes them (a float32 tensor with the scalars plugin's
metadata), so that TensorBoard, ``tbparse`` (``.tensors``) and
``keras_relu_family.report`` read the runs of every backend the same way.
"""

from __future__ import annotations

import time

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.histogram import metadata as histogram_metadata
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util

_SCALAR = scalar_metadata.create_summary_metadata(display_name=None, description=None)
_HISTOGRAM = histogram_metadata.create_summary_metadata(display_name=None, description=None)
HISTOGRAM_BUCKETS = 30  # tf.summary.histogram's default


class EventWriter:
    """One event file in ``directory``: ``scalars``, ``histogram``, ``flush``, ``close``."""

    def __init__(self, directory: str):
        self._file = EventFileWriter(directory, max_queue_size=1000, flush_secs=120)

    def _add(self, step: int, values: list) -> None:
        summary = summary_pb2.Summary(value=values)
        event = event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        self._file.add_event(event)

    def scalars(self, step: int, items) -> None:
        """``items``: ``(tag, value)`` pairs, all at ``step``."""
        self._add(
            step,
            [
                summary_pb2.Summary.Value(
                    tag=tag,
                    metadata=_SCALAR,
                    tensor=tensor_util.make_tensor_proto(np.float32(value)),
                )
                for tag, value in items
            ],
        )

    def histogram(self, step: int, tag: str, values) -> None:
        """``values`` as TensorFlow 2 buckets them: ``[left, right, count]`` rows."""
        self._add(
            step,
            [
                summary_pb2.Summary.Value(
                    tag=tag,
                    metadata=_HISTOGRAM,
                    tensor=tensor_util.make_tensor_proto(histogram_buckets(values)),
                )
            ],
        )

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def histogram_buckets(values, bucket_count: int = HISTOGRAM_BUCKETS) -> np.ndarray:
    """``[bucket_count, 3]`` float64 rows ``(left, right, count)`` of ``values``."""
    values = np.asarray(values, np.float64).ravel()
    if values.size == 0:
        return np.zeros((0, 3))
    low, high = float(values.min()), float(values.max())
    if low == high:
        edges = np.linspace(low - 0.5, high + 0.5, bucket_count + 1)
    else:
        edges = np.linspace(low, high, bucket_count + 1)
    counts, _ = np.histogram(values, bins=edges)
    return np.stack([edges[:-1], edges[1:], counts.astype(np.float64)], axis=1)
