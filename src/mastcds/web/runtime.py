"""Process settings for serving requests (``mastcds serve``, and the benchmark as it): the application
log on standard error, and the garbage collector tuned for per-request garbage.

A CDS Hooks call parses a prefetch of tens of kB into thousands of short-lived
objects, so with CPython's default threshold (700 allocations) the young
generation is collected several times per call, and every tenth of those
collections walks the whole heap of imported modules. Measured with the
patient-view call (bench/cds_hooks.py): the collector took 0.09 ms of a
0.6 ms call; with the start-up heap frozen and a higher threshold, 0.01 ms.
"""

from __future__ import annotations

import atexit
import gc
import logging
import queue
import sys
import time
from logging.handlers import QueueHandler, QueueListener
from typing import Any

# Allocations between young-generation collections (CPython's default: 700), and how many
# young (then middle) collections before the next older one (defaults 10 and 10).
YOUNG_THRESHOLD = 10_000
MIDDLE_EVERY = 20
OLD_EVERY = 50
# Seconds the log writer lets records gather before it writes them in one go: at 1,000 calls/s a
# worker writes twenty batches a second instead of waking and writing for every line.
LOG_BATCH_SECONDS = 0.05


def tune_gc_for_serving() -> None:
    """Call once the application is built: what exists then lives as long as the process."""
    gc.collect()
    gc.freeze()  # the start-up heap leaves the collector's view: no later collection walks it
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_EVERY, OLD_EVERY)


class _HandOver(QueueHandler):
    """Queues the record itself: the listener formats it. The stock handler formats and copies it first, to make it
    safe to pickle or to change, which a queue between two threads of one process does not need; every ``mastcds``
    log call passes only strings and numbers as its arguments."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class _BatchedLines(logging.StreamHandler):  # type: ignore[type-arg]
    """Formats each record into a batch that :meth:`flush` writes to the stream in one write."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.lines: list[str] = []
        self.last: logging.LogRecord | None = None  # named when writing the batch fails

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record) + self.terminator)
            self.last = record
        except RecursionError:  # as logging.StreamHandler.emit
            raise
        except Exception:  # noqa: BLE001 - as logging.StreamHandler.emit: reported, the listener goes on
            self.handleError(record)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]  # StreamHandler always creates it
            if not self.lines:
                return
            text, self.lines = "".join(self.lines), []
            try:
                self.stream.write(text)
                self.stream.flush()
            except Exception:  # noqa: BLE001 - as logging.StreamHandler.emit: reported, the listener goes on
                self.handleError(self.last)  # type: ignore[arg-type]  # set with the first line


class _BatchListener(QueueListener):
    """A QueueListener that writes in batches: once the queue is empty it writes what it formatted, then sleeps
    :data:`LOG_BATCH_SECONDS` before it looks again. Waiting on the queue instead, it was woken for every record:
    8 context switches per CDS Hooks call on the machine instead of 2.4, and 0.68-0.71 ms of server CPU per call instead
    of 0.58-0.61 (the CDS Hooks benchmark's layout and load, 4 interleaved runs each; README "Figures"). It waits on
    the queue only when the queue is still empty after the sleep, so an idle server does not wake."""

    def dequeue(self, block: bool) -> logging.LogRecord:
        try:
            record = self.queue.get_nowait()
        except queue.Empty:
            self._write()
            time.sleep(LOG_BATCH_SECONDS)
            record = self.queue.get(block)
        if record is self._sentinel:  # stop(): what is formatted is written before the thread ends
            self._write()
        return record

    def _write(self) -> None:
        for handler in self.handlers:
            handler.flush()


def configure_logging() -> QueueListener:
    """The ``mastcds`` loggers (access lines, errors; never patient data) at INFO on standard error, written by a thread.

    The event loop only queues a record; a listener thread formats and writes it
    (the Logging Cookbook's "Dealing with handlers that block"), in batches a few
    hundredths of a second apart (:class:`_BatchListener`). Written from the
    loop, an access line sometimes waited tens of milliseconds on the file system
    (ext4's journal commits, every 5 s), and every call in flight on that worker
    waited with it: with the log on disk, p99 of the CDS Hooks benchmark was 53-61 ms,
    with the log on tmpfs 46-47 ms (README). A pipe to journald or a container
    runtime blocks the same way once its reader falls behind.

    Records skip what the line does not print (calling function, thread, process),
    as the Logging HOWTO's "Optimization" section describes: finding the caller 25
    frames deep in the middleware stack and naming the thread and process were a
    fifth of an access line's cost. This process serves; it sets them.
    The listener is stopped, and what is queued written, at exit.
    """
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # the documented switch (Logging HOWTO, "Optimization")
    stream = _BatchedLines(sys.stderr)
    stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = _BatchListener(records, stream)
    listener.start()
    atexit.register(listener.stop)
    logger = logging.getLogger("mastcds")
    logger.addHandler(_HandOver(records))
    logger.setLevel(logging.INFO)
    return listener
