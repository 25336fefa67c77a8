"""The serving process's collector and logging settings."""

import atexit
import gc
import io
import logging
import re
import sys
import threading
import time
from typing import Any

import pytest

from mastcds.web.runtime import (
    MIDDLE_EVERY,
    OLD_EVERY,
    YOUNG_THRESHOLD,
    configure_logging,
    tune_gc_for_serving,
)


def test_tuning_freezes_the_start_up_heap_and_raises_the_thresholds() -> None:
    before = gc.get_threshold()
    try:
        tune_gc_for_serving()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, MIDDLE_EVERY, OLD_EVERY)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def _serving_log(monkeypatch: pytest.MonkeyPatch, stream: io.StringIO) -> tuple[logging.Logger, Any, Any]:
    """configure_logging() on ``stream`` as standard error: the logger, the listener, and a cleanup that restores the
    logger and stops the listener (which writes what is queued, as at exit)."""
    for name in ("logThreads", "logProcesses", "logMultiprocessing", "_srcfile"):  # restored after the test
        monkeypatch.setattr(logging, name, getattr(logging, name))
    monkeypatch.setattr(sys, "stderr", stream)
    logger = logging.getLogger("mastcds")
    level, handlers = logger.level, list(logger.handlers)
    listener = configure_logging()

    def cleanup() -> None:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        listener.stop()  # writes what is queued, as at exit
        atexit.unregister(listener.stop)

    return logger, listener, cleanup


def test_serving_log_lines_keep_their_format_and_records_skip_what_they_do_not_print(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger, listener, cleanup = _serving_log(monkeypatch, stream)
    try:
        logger.addHandler(Keep())
        logging.getLogger("mastcds.web.access").info("%s %s %s %.1f ms", "POST", "/cds-services/{service_id}", 200, 1.25)
        assert threading.current_thread() is threading.main_thread()
    finally:
        cleanup()
    assert listener.handlers[0].stream is stream
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO mastcds\.web\.access: "
                        r"POST /cds-services/\{service_id\} 200 1\.2 ms\n", stream.getvalue())
    (record,) = records
    assert (record.funcName, record.threadName, record.processName, record.process) == ("(unknown function)", None, None, None)


def test_a_log_line_is_written_by_the_listener_thread_not_by_the_one_that_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    # a write that blocks (a journal commit, a full pipe) must not hold up the event loop's thread
    writers: list[str] = []

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            writers.append(threading.current_thread().name)
            return super().write(text)

    stream = Stream()
    _, _, cleanup = _serving_log(monkeypatch, stream)
    try:
        logging.getLogger("mastcds.web").error("internal error in %s", "GET /x")
    finally:
        cleanup()
    assert writers and threading.main_thread().name not in writers
    assert "ERROR mastcds.web: internal error in GET /x" in stream.getvalue()


def test_lines_logged_together_are_written_together_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    # one write per batch, not per line: the listener is not woken by each record (README "Figures")
    writes: list[str] = []

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return super().write(text)

    stream = Stream()
    logger, _, cleanup = _serving_log(monkeypatch, stream)
    try:
        for i in range(200):
            logger.getChild("web.access").info("GET /health 200 %d", i)
    finally:
        cleanup()
    lines = stream.getvalue().splitlines()
    assert [line.rsplit(" ", 1)[1] for line in lines] == [str(i) for i in range(200)]
    assert len(writes) <= 5, len(writes)


def test_a_batch_that_cannot_be_written_is_reported_and_later_lines_still_are(monkeypatch: pytest.MonkeyPatch) -> None:
    failures = []

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            if not failures and "first" in text:
                failures.append(text)
                raise ValueError("disk gone")
            return super().write(text)

    stream = Stream()
    logger, _, cleanup = _serving_log(monkeypatch, stream)
    try:
        logger.warning("first")
        deadline = time.monotonic() + 10
        while not failures and time.monotonic() < deadline:
            time.sleep(0.01)
        logger.warning("second")
    finally:
        cleanup()
    assert failures
    text = stream.getvalue()
    assert "--- Logging error ---" in text and "ValueError: disk gone" in text  # logging.Handler.handleError's report
    assert text.rstrip().endswith("WARNING mastcds: second")
