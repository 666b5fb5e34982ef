"""The monitor's run directory: kept writable, recreated, never overwritten (no TensorFlow).

``<log_dir>/train`` holds one event file per writer the monitor opened. An
event file whose directory was deleted takes writes without complaint and
loses them, so before each batch of writes :meth:`RunDir.ready` checks that
the monitor's file is still there. When it is gone, or a write failed, the
monitor warns once (until logging works again), keeps training, and at each
later write tries to recreate the directory and open a new file (a new name:
nothing written is ever overwritten).

:func:`last_logged_step` reads back the largest step of the monitor's tags
already in the directory, so that a run resumed from a backup (which winds
``optimizer.iterations`` back) does not log a step twice.
"""

from __future__ import annotations

import contextlib
import glob
import os
import warnings

from keras_relu_family.callbacks._tags import is_monitor_tag

EVENT_PATTERN = "events.out.tfevents.*"


class LocalFiles:
    """The file operations the run directory needs, on the local disk.

    The TensorFlow monitor passes ``tf.io.gfile`` instead, which has the same
    three functions and also reaches ``gs://`` and other remote paths.
    """

    exists = staticmethod(os.path.exists)
    glob = staticmethod(glob.glob)

    @staticmethod
    def makedirs(path):
        os.makedirs(path, exist_ok=True)


def event_files(directory: str, files=LocalFiles) -> set:
    return set(files.glob(os.path.join(glob.escape(directory), EVENT_PATTERN)))


def last_logged_step(directory: str, files=LocalFiles) -> int:
    """The largest step of a monitor tag in the event files of ``directory`` (0 if none)."""
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    last = 0
    for path in sorted(event_files(directory, files)):
        try:
            for event in LegacyEventFileLoader(path).Load():
                if event.step > last and any(
                    is_monitor_tag(value.tag) for value in event.summary.value
                ):
                    last = event.step
        except Exception:  # noqa: BLE001 - a truncated or foreign file: use what was read
            continue
    return last


class RunDir:
    """The writer of ``<log_dir>/train`` and what to do when the directory goes away.

    Args:
        log_dir: The monitor's ``log_dir``.
        open_writer: ``open_writer(directory) -> writer``: a new event file
            writer (with ``flush()`` and ``close()``); it must create a new file.
        files: ``exists``, ``makedirs`` and ``glob`` (:class:`LocalFiles`, or
            ``tf.io.gfile``).
    """

    def __init__(self, log_dir: str, open_writer, files=LocalFiles):
        self.log_dir = log_dir
        self.files = files
        self.directory = os.path.join(log_dir, "train")
        self._open_writer = open_writer
        self.writer = None
        self.event_file = None
        self.generation = 0  # +1 per writer opened: compiled writers are made per writer
        self._outage = False

    def open(self) -> None:
        """Opens the first writer; an ``OSError`` naming the directory if it cannot."""
        try:
            self._open()
        except Exception as error:  # noqa: BLE001 - TensorFlow raises its own OpError types
            raise OSError(
                f"GradientMonitor cannot write TensorBoard logs to {self.directory!r} "
                f"({type(error).__name__}: {error}). Received: log_dir={self.log_dir!r}"
            ) from error

    def _open(self) -> None:
        self.files.makedirs(self.directory)
        before = event_files(self.directory, self.files)
        writer = self._open_writer(self.directory)
        writer.flush()  # creates the file
        new = sorted(event_files(self.directory, self.files) - before)
        self.writer, self.event_file = writer, (new[-1] if new else None)
        self.generation += 1

    def ready(self) -> bool:
        """Whether the writer can be used now; reopens (or warns once) when the file went away."""
        if self.writer is not None and (
            self.event_file is None or self.files.exists(self.event_file)
        ):
            return True
        if self.writer is not None:
            self._fail(f"its event file {self.event_file!r} disappeared")
        try:
            self._open()
        except Exception as error:  # noqa: BLE001 - retried at the next write
            self._fail(f"{type(error).__name__}: {error}")
            return False
        self._outage = False
        return True

    def failed(self, error: BaseException) -> None:
        """A write failed: warn (once per outage) and reopen at the next :meth:`ready`."""
        self._fail(f"{type(error).__name__}: {error}")

    def _fail(self, reason: str) -> None:
        if self.writer is not None:
            with contextlib.suppress(Exception):  # the writer is being dropped anyway
                self.writer.close()
        self.writer = self.event_file = None
        if not self._outage:
            self._outage = True
            warnings.warn(
                f"GradientMonitor cannot write to {self.directory!r} ({reason}); training "
                "goes on, and the monitor recreates the directory and logs to a new event "
                "file as soon as it can (what was written stays as it is).",
                RuntimeWarning,
                stacklevel=4,
            )

    def flush(self) -> None:
        if self.writer is not None:
            try:
                self.writer.flush()
            except Exception as error:  # noqa: BLE001 - logging must not end the run
                self.failed(error)
