"""The machine's clock jumps (PRODENTHUB_CLOCK_OFFSET_S, the tests' override, moves the pool's
and the tool's clock; ctx.now everywhere): a Stripe signature is judged by its age on our
clock with STRIPE_WEBHOOK_TOLERANCE_S (300 s) either way, so 2 minutes of jump keep a fresh
event valid and make a 4-minute-old one stale; the mock-exam listing leaves out exams that
have started by our clock, also when its first page comes from the cache; an email's coupon
holds last PURCHASE_HOLD_S (31 min) by the clock that took them, so 2 minutes ahead free
none of them and 32 do; a reminder is queued when its exam comes within the lead time by the
job's clock, and once, however the clock moves after."""

import contextlib
import datetime
import json
import time
import uuid

import pytest

from stack import assert_envelope
from test_coupon_holds import buy, new_coupon
from test_mock_exams import ctl, exam, fresh_listing, register
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


def test_coupon_holds_end_by_the_clock_that_took_them(stack, ddb):  # noqa: F811
    email = "clock-holds-%s@example.com" % uuid.uuid4().hex[:8]
    codes = [new_coupon(ddb) for _ in range(5)]
    for c in codes[:3]:                       # COUPON_HOLDS_PER_EMAIL: 3 open at once
        assert_envelope(buy(stack, stack.new_ip(), email, c), 201)
    with jumped(stack, JUMP_S):
        r = buy(stack, stack.new_ip(), email, codes[3])
    assert assert_envelope(r, 409, "CONDITION_FAILED")["details"]["reason"] == \
        "TOO_MANY_OPEN_CHECKOUTS"
    with jumped(stack, 32 * 60):              # past PURCHASE_HOLD_S: a slot is free again
        assert_envelope(buy(stack, stack.new_ip(), email, codes[4]), 201)


def test_a_reminder_comes_by_the_jobs_clock_and_once(stack, ddb):  # noqa: F811
    eid = "clockjump-" + uuid.uuid4().hex[:8]
    exam(ddb, eid, 24 + 1 / 60)               # 24 h and a minute ahead: just outside the lead
    person = "clockjump-%s@example.com" % eid[-8:]
    assert_envelope(register(stack, eid, person), 201)

    def remind(offset):
        env = dict(stack.env, PRODENTHUB_CLOCK_OFFSET_S=str(offset))
        old, stack.env = stack.env, env
        try:
            return json.loads(ctl(stack, "send-reminders").stdout)["queued"]
        finally:
            stack.env = old

    assert remind(0) == 0                     # not within MOCK_REMINDER_LEAD_HOURS yet
    assert remind(JUMP_S) == 1                # the clock 2 minutes ahead: within
    assert remind(0) == 0 and remind(-JUMP_S) == 0 and remind(JUMP_S) == 0
    got = stack.wait_mail(person, count=2)    # the registration and the reminder
    time.sleep(1.5)
    assert sum("remind" in m["subject"].lower() for m in stack.mails(person)) == 1, \
        [m["subject"] for m in got]
