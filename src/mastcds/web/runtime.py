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
from logging.handlers import QueueHandler, QueueListener

# Allocations between young-generation collections (CPython's default: 700), and how many
# young (then middle) collections before the next older one (defaults 10 and 10).
YOUNG_THRESHOLD = 10_000
MIDDLE_EVERY = 20
OLD_EVERY = 50


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


def configure_logging() -> QueueListener:
    """The ``mastcds`` loggers (access lines, errors; never patient data) at INFO on standard error, written by a thread.

    The event loop only queues a record; a listener thread formats and writes it
    (the Logging Cookbook's "Dealing with handlers that block"). Written from the
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
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = QueueListener(records, stream)
    listener.start()
    atexit.register(listener.stop)
    logger = logging.getLogger("mastcds")
    logger.addHandler(_HandOver(records))
    logger.setLevel(logging.INFO)
    return listener
