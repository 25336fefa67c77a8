"""The serving process's collector and logging settings."""

import gc
import io
import logging
import re
import sys

import pytest

from mastcds.web.runtime import MIDDLE_EVERY, OLD_EVERY, YOUNG_THRESHOLD, configure_logging, tune_gc_for_serving


def test_tuning_freezes_the_start_up_heap_and_raises_the_thresholds() -> None:
    before = gc.get_threshold()
    try:
        tune_gc_for_serving()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, MIDDLE_EVERY, OLD_EVERY)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_serving_log_lines_keep_their_format_and_records_skip_what_they_do_not_print(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("logThreads", "logProcesses", "logMultiprocessing", "_srcfile"):  # restored after the test
        monkeypatch.setattr(logging, name, getattr(logging, name))
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logger = logging.getLogger("mastcds")
    level, handlers = logger.level, list(logger.handlers)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    try:
        configure_logging()
        logger.addHandler(Keep())
        logging.getLogger("mastcds.web.access").info("%s %s %s %.1f ms", "POST", "/cds-services/{service_id}", 200, 1.25)
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO mastcds\.web\.access: "
                        r"POST /cds-services/\{service_id\} 200 1\.2 ms\n", stream.getvalue())
    (record,) = records
    assert (record.funcName, record.threadName, record.processName, record.process) == ("(unknown function)", None, None, None)
