"""The serving process's collector settings."""

import gc

from mastcds.web.runtime import MIDDLE_EVERY, OLD_EVERY, YOUNG_THRESHOLD, tune_gc_for_serving


def test_tuning_freezes_the_start_up_heap_and_raises_the_thresholds() -> None:
    before = gc.get_threshold()
    try:
        tune_gc_for_serving()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, MIDDLE_EVERY, OLD_EVERY)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
