"""The machine's clock jumps (PRODENTHUB_CLOCK_OFFSET_S, the tests' override, moves the pool's
clock; ctx.now everywhere): a Stripe signature is judged by its age on our clock with
STRIPE_WEBHOOK_TOLERANCE_S (300 s) either way, so 2 minutes of jump keep a fresh event
valid and make a 3-minute-old one stale; the mock-exam listing leaves out exams that have
started by our clock, also when its first page comes from the cache."""

import contextlib
import datetime
import uuid

import pytest

from stack import assert_envelope
from test_mock_exams import exam, fresh_listing
from test_webhook import ddb, deliver, event, signed  # noqa: F401 (ddb: a fixture)

JUMP_S = 120
TOLERANCE_S = 300


@contextlib.contextmanager
def jumped(stack, offset):
    """The pool restarted with its clock offset seconds away; as it was afterwards."""
    def restart():
        stack.stop("pool")
        stack.start("pool")
        stack.wait_ready()
    stack.env["PRODENTHUB_CLOCK_OFFSET_S"] = str(offset)
    try:
        restart()
        yield
    finally:
        del stack.env["PRODENTHUB_CLOCK_OFFSET_S"]
        restart()


def unknown_event(stack, age):
    payload = event("clock.probe", {"id": "obj_" + uuid.uuid4().hex})
    t = int(datetime.datetime.now().timestamp()) - age
    return deliver(stack, payload, signed(payload, t=t))


@pytest.mark.parametrize("offset,cases", [
    # ahead 2 min: a fresh event is fine; one 4 min old is 6 by our clock: stale
    (JUMP_S, [(0, 200), (TOLERANCE_S - JUMP_S + 60, 400)]),
    # behind 2 min: a fresh one is "from the future", within; 6 min old is 4 by our clock
    (-JUMP_S, [(0, 200), (TOLERANCE_S + 60, 200)]),
    # behind 6 min: a fresh one is too far ahead
    (-(TOLERANCE_S + 60), [(0, 400)]),
])
def test_webhook_tolerance_is_judged_on_our_clock(stack, offset, cases):
    with jumped(stack, offset):
        got = [(age, unknown_event(stack, age)) for age, _ in cases]
    assert [(age, r.status) for age, r in got] == cases, got
    for _, r in got:
        if r.status == 400:
            assert_envelope(r, 400, "BAD_REQUEST")


def test_listing_leaves_out_exams_started_by_our_clock(stack, ddb):  # noqa: F811
    eid = "clock-" + uuid.uuid4().hex[:8]
    exam(ddb, eid, 1 / 60)                     # starts in one minute, real time
    fresh_listing(stack)
    listed = assert_envelope(stack.get("/v1/mock-exams?limit=50", source_ip=stack.new_ip()),
                             200)["data"]["exams"]
    assert eid in [e["mockExamId"] for e in listed]
    with jumped(stack, JUMP_S):
        listed = assert_envelope(stack.get("/v1/mock-exams?limit=50",
                                           source_ip=stack.new_ip()), 200)["data"]["exams"]
    assert eid not in [e["mockExamId"] for e in listed]
