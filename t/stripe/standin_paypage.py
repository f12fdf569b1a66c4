"""The hosted pay page of the Stripe stand-in's Checkout Sessions, GET /pay/{id} (a
session's url): the session's items and total with Pay, Decline card and Cancel buttons.  Pay
completes the session (its webhooks delivered) and redirects to success_url (or return_url,
{CHECKOUT_SESSION_ID} filled in); Decline fails an attempt; Cancel goes to cancel_url."""

import copy
import html
import urllib.parse

from standin_common import CtlError, money

HTML = "text/html; charset=utf-8"


def page(st, method, path, body):
    """GET or POST /pay/{id}: (status, headers, body, log note)."""
    sid = path[len("/pay/"):].strip("/")
    with st.lock:
        s = st.sessions.get(sid)
        view = st.render("checkout.session", s) if s else None
        items = [copy.deepcopy(li) for li in s["_line_items"]] if s else []
    if s is None:
        return (404, [("Content-Type", HTML)],
                b"<!doctype html><title>Not found</title><p>No such checkout session.</p>\n",
                "pay page: unknown session")
    if method == "POST":
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get(
            "action", [""])[0]
        try:
            if action == "pay":
                st.complete(sid, {})
                back = view["success_url"] or view["return_url"]
                target = (back.replace("{CHECKOUT_SESSION_ID}", sid) if back
                          else "/pay/" + sid)
            elif action == "decline":
                with st.lock:
                    pi = st._ensure_pi(s, "card")
                st.async_result(pi, False, {})
                target = "/pay/" + sid
            elif action == "cancel":
                target = view["cancel_url"]
            else:
                target = "/pay/" + sid
        except CtlError as e:
            return (409, [("Content-Type", "text/plain; charset=utf-8")],
                    (e.message + "\n").encode(), "pay page: " + e.message)
        return 303, [("Location", target)], b"", "pay page: %s" % action
    esc = html.escape
    rows = "".join("<tr><td>%s</td><td>%d</td><td>%s</td></tr>" % (
        esc(str(li["description"])), li["quantity"],
        esc(money(li["amount_total"], li["currency"]))) for li in items)
    err = ""
    with st.lock:
        pi = st.payment_intents.get(s.get("payment_intent") or "")
        if pi and pi.get("last_payment_error"):
            err = "<p style='color:#b00'>%s</p>" % esc(pi["last_payment_error"]["message"])
    buttons = ("<form method='post'><button name='action' value='pay'>Pay %s</button> "
               "<button name='action' value='decline'>Decline card</button> "
               "<button name='action' value='cancel'>Cancel</button></form>"
               % esc(money(view["amount_total"], view["currency"]))
               if view["status"] == "open" else "")
    text = ("<!doctype html><html><head><meta charset='utf-8'><title>Stripe stand-in "
            "checkout</title></head><body style='font-family:sans-serif;max-width:40em'>"
            "<h1>Test checkout</h1><p>Local Stripe stand-in; no real payment.</p>"
            "<p>Session <code>%s</code>: <b>%s</b> / <b>%s</b>%s</p>"
            "<table border='1' cellpadding='4'><tr><th>Item</th><th>Qty</th>"
            "<th>Amount</th></tr>%s</table><p>Total: %s</p>%s%s</body></html>\n" % (
                esc(sid), esc(view["status"]), esc(view["payment_status"]),
                (" (" + esc(view["customer_email"]) + ")") if view["customer_email"]
                else "", rows, esc(money(view["amount_total"], view["currency"])), err,
                buttons))
    return 200, [("Content-Type", HTML)], text.encode("utf-8"), "pay page"
