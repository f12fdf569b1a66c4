"""What the Stripe stand-in's modules share (stripe_standin.py and its standin_*.py): the
constants, ids, clock and log line, Stripe's error shape, the form decoding of request
parameters with Stripe's validation messages, expansion and lists.  Standard library only."""

import copy
import json
import os
import re
import secrets
import string
import sys
import time
import urllib.parse

# t/standin.py, what every local test server of ours shares, is in the folder above
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import standin  # noqa: E402

DEFAULT_API_VERSION = "2024-06-20"
IDEMPOTENCY_TTL = 24 * 3600
IDEMPOTENCY_MAX = 200000
MAX_BODY = 1 << 20
ALNUM = string.ascii_letters + string.digits
VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z_]+)?$")
INT_RE = re.compile(r"^-?[0-9]+$")
DEC_RE = re.compile(r"^[0-9]+(\.[0-9]{1,12})?$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
CURRENCY_RE = re.compile(r"^[A-Za-z]{3}$")
KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
SEG_RE = re.compile(r"\[([^\[\]]*)\]")
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx",
                "vnd", "vuv", "xaf", "xof", "xpf"}
MIN_AMOUNT = {"aud": 50, "usd": 50, "nzd": 50, "cad": 50, "eur": 50, "sgd": 50, "gbp": 30,
              "jpy": 50}
MAX_AMOUNT = 99999999
DISPUTE_REASONS = ("bank_cannot_process", "check_returned", "credit_not_processed",
                   "customer_initiated", "debit_not_authorized", "duplicate", "fraudulent",
                   "general", "incorrect_account_details", "insufficient_funds",
                   "product_not_received", "product_unacceptable", "subscription_canceled",
                   "unrecognized")
DISPUTE_EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy",
    "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication",
    "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
    "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id",
    "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
    "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address",
    "shipping_carrier", "shipping_date", "shipping_documentation", "shipping_tracking_number",
    "uncategorized_file", "uncategorized_text")
DISPUTE_RESPONSE_DAYS = 7
# the card networks' reason codes Stripe reports in payment_method_details.card
VISA_REASON_CODES = {"fraudulent": "10.4", "duplicate": "12.6.1", "credit_not_processed":
                     "13.6", "product_not_received": "13.1", "product_unacceptable": "13.3",
                     "subscription_canceled": "13.2", "unrecognized": "10.4"}
SYMBOLS = {"aud": "A$", "usd": "$", "nzd": "NZ$", "cad": "CA$", "eur": "\u20ac",
           "gbp": "\u00a3"}
CLOSED = object()       # marks an answer that must not be written


log = standin.logger("stripe")


def rid(prefix, n=24):
    return prefix + "".join(secrets.choice(ALNUM) for _ in range(n))


def now():
    return int(time.time())


def mask_key(key):
    m = re.match(r"^([a-z]+_(?:test|live)_)", key)
    pre = m.group(1) if m else key[:3]
    rest = len(key) - len(pre)
    if rest <= 4:
        return pre + "*" * max(rest, 0)
    return pre + "*" * (rest - 4) + key[-4:]


def money(amount, currency):
    if currency in ZERO_DECIMAL:
        text = "%d" % amount
    else:
        text = "%d.%02d" % divmod(amount, 100)
    sym = SYMBOLS.get(currency)
    return sym + text if sym else "%s %s" % (text, currency.upper())


class ApiError(Exception):
    """An answer in Stripe's error shape.  executed: the endpoint had begun its work, so the
    result is kept under the Idempotency-Key (Stripe keeps no result for requests that failed
    validation)."""

    def __init__(self, status, message, type_="invalid_request_error", code=None, param=None,
                 executed=False, headers=None, extra=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.executed = executed
        self.headers = list(headers or [])
        self.extra = extra or {}

    def body(self):
        err = {}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = "https://stripe.com/docs/error-codes/" + self.code.replace("_", "-")
        err.update(self.extra)
        err["message"] = self.message
        if self.param:
            err["param"] = self.param
        err["type"] = self.type
        return {"error": err}


class CtlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


# --- form decoding ------------------------------------------------------------------------

def pname(prefix, key):
    return "%s[%s]" % (prefix, key) if prefix else str(key)


def parse_form(raw):
    """Decode Stripe's form encoding into nested dicts.  a[b]=1 -> {"a": {"b": "1"}};
    a[0][b]=1 -> {"a": {"0": {"b": "1"}}} (made a list where the schema wants one);
    a[]=1&a[]=2 -> {"a": ["1", "2"]}.  Values stay strings."""
    root = {}
    if not raw:
        return root
    for part in raw.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        k = urllib.parse.unquote_plus(k)
        v = urllib.parse.unquote_plus(v)
        m = KEY_RE.match(k)
        if not m:
            raise ApiError(400, "Invalid parameter name: %s" % k, param=k)
        path = [m.group(1)] + SEG_RE.findall(m.group(2))
        node = root
        for i in range(len(path) - 1):
            seg, nxt = path[i], path[i + 1]
            here = "".join([path[0]] + ["[%s]" % s for s in path[1:i + 1]])
            if seg == "":
                raise ApiError(400, "Invalid array: [] may only end a parameter name (%s)"
                               % k, param=here)
            want = list if nxt == "" else dict
            cur = node.get(seg)
            if cur is None:
                cur = node[seg] = want()
            elif not isinstance(cur, want):
                raise ApiError(400, "Invalid %s" % ("array" if want is list else "hash"),
                               param=here)
            node = cur
        if isinstance(node, list):
            node.append(v)
        else:
            if isinstance(node.get(path[-1]), (dict, list)):
                raise ApiError(400, "Invalid string: %s is a hash or an array, not a string"
                               % k, param=k)
            node[path[-1]] = v
    return root


def check_unknown(d, allowed, prefix):
    for k in d:
        if k not in allowed:
            n = pname(prefix, k)
            raise ApiError(400, "Received unknown parameter: %s" % n, code="parameter_unknown",
                           param=n)


def opt_hash(d, key, prefix, required=False):
    n = pname(prefix, key)
    v = d.get(key)
    if v is None or v == "":
        if required:
            raise ApiError(400, "Missing required param: %s." % n, code="parameter_missing",
                           param=n)
        return None if v is None else {}
    if not isinstance(v, dict):
        raise ApiError(400, "Invalid hash", param=n)
    return v


def opt_list(d, key, prefix, required=False):
    n = pname(prefix, key)
    v = d.get(key)
    if v is None or v == "" or v == {}:
        if required:
            raise ApiError(400, "Missing required param: %s." % n, code="parameter_missing",
                           param=n)
        return None if v is None else []
    if isinstance(v, list):
        return v
    if isinstance(v, dict) and all(k.isdigit() for k in v):
        return [v[k] for k in sorted(v, key=int)]
    raise ApiError(400, "Invalid array", param=n)


def opt_str(d, key, prefix, required=False, maxlen=None, enum=None):
    n = pname(prefix, key)
    v = d.get(key)
    if v is None or v == "":
        if required:
            raise ApiError(400, "Missing required param: %s." % n, code="parameter_missing",
                           param=n)
        return None
    if not isinstance(v, str):
        raise ApiError(400, "Invalid string: %s" % json.dumps(v), param=n)
    if maxlen is not None and len(v) > maxlen:
        raise ApiError(400, "Invalid string: %s...; must be at most %d characters"
                       % (v[:40], maxlen), param=n)
    if enum is not None and v not in enum:
        raise ApiError(400, "Invalid %s: must be one of %s" % (key, ", ".join(enum)), param=n)
    return v


def opt_int(d, key, prefix, required=False, minimum=None, maximum=None):
    n = pname(prefix, key)
    v = d.get(key)
    if v is None or v == "":
        if required:
            raise ApiError(400, "Missing required param: %s." % n, code="parameter_missing",
                           param=n)
        return None
    if not isinstance(v, str) or not INT_RE.match(v):
        raise ApiError(400, "Invalid integer: %s" % (v if isinstance(v, str) else json.dumps(v)),
                       code="parameter_invalid_integer", param=n)
    i = int(v)
    if minimum is not None and i < minimum:
        raise ApiError(400, "This value must be greater than or equal to %d." % minimum,
                       code="parameter_invalid_integer", param=n)
    if maximum is not None and i > maximum:
        raise ApiError(400, "This value must be less than or equal to %d." % maximum,
                       code="parameter_invalid_integer", param=n)
    return i


def opt_bool(d, key, prefix):
    n = pname(prefix, key)
    v = d.get(key)
    if v is None or v == "":
        return None
    # case-insensitive: stripe-python sends a Python bool as "True" / "False"
    if not isinstance(v, str) or v.lower() not in ("true", "false"):
        raise ApiError(400, "Invalid boolean: %s" % (v if isinstance(v, str) else json.dumps(v)),
                       param=n)
    return v.lower() == "true"


def opt_metadata(d, key, prefix):
    n = pname(prefix, key)
    md = opt_hash(d, key, prefix)
    if md is None:
        return {}
    out = {}
    for k, v in md.items():
        kn = pname(n, k)
        if not isinstance(v, str):
            raise ApiError(400, "Invalid metadata: metadata values must be strings", param=kn)
        if v == "":
            continue                          # an empty value unsets the key
        if len(k) > 40:
            raise ApiError(400, "Metadata keys can have up to 40 characters, but you passed in "
                           "a key that is %d characters. Invalid key: %s" % (len(k), k),
                           param=kn)
        if len(v) > 500:
            raise ApiError(400, "Metadata values can have up to 500 characters, but you passed "
                           "in a value that is %d characters. Invalid value: %s"
                           % (len(v), v[:60]), param=kn)
        out[k] = v
    if len(out) > 50:
        raise ApiError(400, "Invalid metadata: metadata can have up to 50 keys, but you passed "
                       "in %d keys." % len(out), param=n)
    return out


def opt_url(d, key, prefix, required=False):
    v = opt_str(d, key, prefix, required=required)
    if v is None:
        return None
    u = urllib.parse.urlsplit(v)
    if u.scheme not in ("http", "https") or not u.netloc or len(v) > 5000 or " " in v:
        raise ApiError(400, "Not a valid URL", code="url_invalid", param=pname(prefix, key))
    return v


# --- expansion ----------------------------------------------------------------------------

# field -> kind of the expanded object (None: always null here)
EXPANDABLE = {
    "checkout.session": {"payment_intent": "payment_intent", "line_items": "line_items",
                         "customer": "customer", "invoice": "invoice", "setup_intent": None,
                         "subscription": "subscription", "payment_link": None},
    "payment_intent": {"latest_charge": "charge", "customer": "customer",
                       "invoice": "invoice", "review": None, "application": None,
                       "on_behalf_of": None},
    "charge": {"payment_intent": "payment_intent", "refunds": "refunds",
               "customer": "customer", "invoice": "invoice", "review": None,
               "application": None},
    "customer": {"default_source": None, "test_clock": None},
    "subscription": {"customer": "customer", "latest_invoice": "invoice",
                     "default_payment_method": None, "pending_setup_intent": None,
                     "schedule": None, "test_clock": None},
    "invoice": {"customer": "customer", "subscription": "subscription",
                "payment_intent": "payment_intent", "charge": "charge",
                "default_payment_method": None, "test_clock": None},
    "refund": {"charge": "charge", "payment_intent": "payment_intent"},
    "dispute": {"charge": "charge", "payment_intent": "payment_intent"},
    "line_items": {}, "refunds": {}, "event": {}, "price": {}, "list": {},
    "product": {"default_price": "price"}, "webhook_endpoint": {},
}


def parse_expand(p, kind, list_of=None):
    """expand[] -> a tree {"payment_intent": {"latest_charge": {}}}; for a list, the
    paths start with data. and apply to list_of."""
    raw = opt_list(p, "expand", "") or []
    tree = {}
    for i, item in enumerate(raw):
        if not isinstance(item, str) or not item:
            raise ApiError(400, "Invalid string", param="expand[%d]" % i)
        parts = item.split(".")
        k = kind
        if kind == "list":
            if parts[0] != "data" or list_of is None or len(parts) < 2:
                raise ApiError(400, "This property cannot be expanded (%s)." % item,
                               param="expand[%d]" % i)
            parts, k = parts[1:], list_of
        if len(parts) > 4:
            raise ApiError(400, "You cannot expand more than 4 levels of a property. "
                           "Property: %s" % item, param="expand[%d]" % i)
        node = tree
        for part in parts:
            table = EXPANDABLE.get(k, {})
            if part not in table:
                raise ApiError(400, "This property cannot be expanded (%s)." % item,
                               param="expand[%d]" % i)
            k = table[part] or "null"
            node = node.setdefault(part, {})
    return tree


def public(obj):
    return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}


def paginate(p, objs, kind, url, extra_filters=()):
    """objs sorted newest first; Stripe's limit / starting_after / ending_before."""
    limit = opt_int(p, "limit", "", minimum=1, maximum=100) or 10
    after = opt_str(p, "starting_after", "")
    before = opt_str(p, "ending_before", "")
    if after and before:
        raise ApiError(400, "You may only specify one of these parameters: ending_before, "
                       "starting_after.", param="ending_before")
    ids = [o["id"] for o in objs]
    if after:
        if after not in ids:
            raise ApiError(400, "No such %s: '%s'" % (kind, after), code="resource_missing",
                           param="starting_after")
        objs = objs[ids.index(after) + 1:]
        page = objs[:limit]
    elif before:
        if before not in ids:
            raise ApiError(400, "No such %s: '%s'" % (kind, before), code="resource_missing",
                           param="ending_before")
        objs = objs[:ids.index(before)]
        page = objs[-limit:]
    else:
        page = objs[:limit]
    return page, len(objs) > limit


def created_filter(p, objs):
    c = p.get("created")
    if c is None or c == "":
        return objs
    if isinstance(c, str):
        v = opt_int(p, "created", "")
        return [o for o in objs if o["created"] == v]
    if not isinstance(c, dict):
        raise ApiError(400, "Invalid hash", param="created")
    check_unknown(c, {"gt", "gte", "lt", "lte"}, "created")
    ops = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
           "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}
    for op, fn in ops.items():
        v = opt_int(c, op, "created")
        if v is not None:
            objs = [o for o in objs if fn(o["created"], v)]
    return objs
