"""prodenthubctl report: after known traffic through nginx (purchases with and without a
coupon, paid and not, through the Stripe stand-in; a scholarship application; mock exam
registrations), the period's figures, as CSV, are exactly what was done, and the table for
people carries the same conversion."""

import csv
import datetime
import io
import os
import subprocess
import time
import uuid

from stack import BUILDDIR, assert_envelope
from test_fulfilment import buy, stripe_ctl
from test_mock_exams import exam, register
from test_webhook import ddb  # noqa: F401


def report(stack, *args):
    env = dict(stack.env, **stack.ports)
    r = subprocess.run([os.path.join(BUILDDIR, "prodenthubctl"), "report"] + list(args),
                       env=env, capture_output=True, text=True, timeout=120)
    return r


def figures(text):
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "key", "key2", "metric", "value"]
    return {tuple(r[:4]): r[4] for r in rows[1:]}


def test_the_report_counts_what_was_done(stack, ddb):  # noqa: F811
    # The period starts on a second of its own: what an earlier test made in the second
    # before would otherwise count (createdAt has whole seconds).
    time.sleep(1.1)
    start = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    tag = uuid.uuid4().hex[:6]
    paid = []
    for i, code in enumerate(("SAVE20", "SAVE20", None)):
        d = buy(stack, "report-%s-%d@example.com" % (tag, i), code=code)
        if i != 1:
            done = stripe_ctl(stack, "sessions/%s/complete" % d["sessionId"])
            assert done["delivery"]["status"] == 200, done
            paid.append(d["finalAmountCents"])
    assert_envelope(stack.post("/v1/scholarships/apply", source_ip=stack.new_ip(), body={
        "country": "EG", "attempts": 2, "lastScore": 58, "financialHardship": True,
        "studyHoursPerWeek": 12, "firstName": "Rae", "lastName": "Port",
        "email": "report-%s-s@example.com" % tag}), 201)
    e1 = exam(ddb, "report-%s-1" % tag, 72)
    e2 = exam(ddb, "report-%s-2" % tag, 96)
    for eid, n in ((e1, 2), (e2, 1)):
        for i in range(n):
            assert_envelope(register(stack, eid, "report-%s-%s-%d@example.com" % (tag, eid, i)),
                            201)

    # And ends now: a record dated ahead by another test's jumped clock (test_clock.py) is
    # not of this period.
    until = (datetime.datetime.now(datetime.timezone.utc) +
             datetime.timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = report(stack, "--since", start, "--until", until, "--csv")
    assert r.returncode == 0, r.stderr
    f = figures(r.stdout)
    assert f[("checkouts", "discount-purchase", "", "opened")] == "3"
    assert f[("checkouts", "discount-purchase", "", "paid")] == "2"
    assert f[("checkouts", "discount-purchase", "", "conversion")] == "66.7%"
    assert f[("checkouts", "scholarship-application", "", "opened")] == "1"
    assert f[("checkouts", "scholarship-application", "", "paid")] == "0"
    assert f[("checkouts", "team-creation", "", "opened")] == "0"
    assert f[("checkouts", "team-creation", "", "conversion")] == "-"
    assert f[("payments", "succeeded", "discount-purchase", "count")] == "2"
    cents = sum(paid)
    assert f[("payments", "succeeded", "discount-purchase", "amount")] == "%d.%02d" % (
        cents // 100, cents % 100)
    assert f[("coupons", "SAVE20", "", "confirmed")] == "1"
    assert f[("coupons", "SAVE20", "", "reserved")] == "1"
    assert f[("mock-registrations", e1, "free", "confirmed")] == "2"
    assert f[("mock-registrations", e2, "free", "confirmed")] == "1"
    assert f[("scholarships", "50", "", "applied")] == "1"
    assert f[("scholarships", "", "", "averagePercent")] == "50.0"
    assert not [k for k in f if k[0] == "payments" and k[1] == "declined"]

    # A period that ended before: nothing.
    r = report(stack, "--until", start, "--since", "2000-01-01", "--csv")
    assert r.returncode == 0, r.stderr
    assert not [k for k in figures(r.stdout) if k[0] == "mock-registrations" and
                k[1] in (e1, e2)]

    # For people: the same figures as a table.
    r = report(stack, "--since", start, "--until", until)
    assert r.returncode == 0, r.stderr
    line = [x for x in r.stdout.splitlines() if x.strip().startswith("discount-purchase")][0]
    assert line.split() == ["discount-purchase", "3", "2", "66.7%"]

    # Bad dates are a usage error.
    for bad in (["--since", "yesterday"], ["--until", "2026-1-1"], ["--bogus"]):
        assert report(stack, *bad).returncode == 2
