"""moto's Step Functions engine under concurrency (local/moto_patches/engine.py).

The iterations of an inline Map share one parsed state tree and each keeps its retry counts in
its own heap, under the component's lazily made ``heap_key``. When two iterations reached a
retrier for the first time together, each could make its own key: one iteration's count was
stored under a key that was then replaced, so that iteration got one retry more than the ASL's
MaxAttempts (41 copy attempts instead of 1 + 40 in test_copy_quota, now and then under load).
"""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from unittest import mock

from lifeboat.local.moto_patches.engine import patch_engine
from moto.stepfunctions.parser.asl.component import eval_component
from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import MaxAttemptsDecl
from moto.stepfunctions.parser.utils import long_uid

THREADS = 8


def _slow_uid() -> str:
    """A uid that takes long enough for every thread to be inside the first access together."""
    time.sleep(0.02)
    return str(long_uid())


def _keys_seen_by_concurrent_first_access() -> set[str]:
    component = MaxAttemptsDecl(40)
    start = threading.Barrier(THREADS)
    keys: list[str] = []

    def first_access() -> None:
        start.wait()
        keys.append(component.heap_key)

    with mock.patch.object(eval_component, "long_uid", _slow_uid):
        threads = [threading.Thread(target=first_access) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return {*keys, component.heap_key}


def test_a_retrier_reached_by_several_map_iterations_at_once_keeps_one_heap_key() -> None:
    # GIVEN local mode's engine patches
    with ExitStack() as stack:
        patch_engine(stack, time_scale=0.001)
        # WHEN 8 Map iterations reach the same retrier's attempt counter for the first time at once
        keys = _keys_seen_by_concurrent_first_access()
    # THEN they all count under one key, so none of them gets an extra attempt
    assert len(keys) == 1
