"""PaymentIntents, Charges, Refunds and Disputes of the Stripe stand-in, a part of its Store
(standin_store.py): the PaymentIntent and Charge a checkout makes, a processing payment settled
or a payment declined, refunds (POST /v1/refunds and the control's), and disputes opened,
charged back and decided by the control."""

import datetime

from standin_common import (
    DISPUTE_EVIDENCE_FIELDS, DISPUTE_REASONS, DISPUTE_RESPONSE_DAYS, VISA_REASON_CODES,
    ApiError, CtlError, check_unknown, money, now, opt_int, opt_metadata, opt_str,
    parse_expand, rid)


class Payments:
    """Uses the Store's lock, payment_intents, charges, refunds, disputes, sessions,
    next_seq(), event(), outcome(), render(), save() and _customer_details()."""

    def _payment_method_details(self, method):
        if method == "au_becs_debit":
            return {"au_becs_debit": {"bsb_number": "000000", "fingerprint": rid("", 16),
                                      "last4": "3456", "mandate": rid("mandate_1", 23)},
                    "type": "au_becs_debit"}
        return {"card": {"amount_authorization": None, "brand": "visa",
                         "checks": {"address_line1_check": None,
                                    "address_postal_code_check": None, "cvc_check": "pass"},
                         "country": "AU", "exp_month": 12,
                         "exp_year": datetime.date.today().year + 3, "extended_authorization":
                         {"status": "disabled"}, "fingerprint": rid("", 16), "funding": "credit",
                         "installments": None, "last4": "4242", "mandate": None,
                         "network": "visa", "network_token": {"used": False},
                         "three_d_secure": None, "wallet": None},
                "type": "card"}

    def _ensure_pi(self, s, method):
        pid = s.get("payment_intent")
        if pid and pid in self.payment_intents:
            pi = self.payment_intents[pid]
            pi["payment_method_types"] = [method]
            return pi
        pdata = s.get("_payment_intent_data") or {}
        pi_id = rid("pi_3", 23)
        pi = {"id": pi_id, "object": "payment_intent", "amount": s["amount_total"],
              "amount_capturable": 0, "amount_details": {"tip": {}}, "amount_received": 0,
              "application": None, "application_fee_amount": None,
              "automatic_payment_methods": None, "canceled_at": None,
              "cancellation_reason": None, "capture_method": "automatic",
              "client_secret": "%s_secret_%s" % (pi_id, rid("", 25)),
              "confirmation_method": "automatic", "created": now(),
              "currency": s["currency"], "customer": s.get("customer"),
              "description": pdata.get("description"), "invoice": None,
              "last_payment_error": None, "latest_charge": None, "livemode": False,
              "metadata": dict(pdata.get("metadata") or {}), "next_action": None,
              "on_behalf_of": None, "payment_method": None,
              "payment_method_configuration_details": None, "payment_method_options": {},
              "payment_method_types": [method], "processing": None,
              "receipt_email": pdata.get("receipt_email"), "review": None,
              "setup_future_usage": pdata.get("setup_future_usage"), "shipping": None,
              "source": None, "statement_descriptor": pdata.get("statement_descriptor"),
              "statement_descriptor_suffix": pdata.get("statement_descriptor_suffix"),
              "status": "requires_payment_method", "transfer_data": None,
              "transfer_group": pdata.get("transfer_group"),
              "_session": s["id"], "_seq": self.next_seq()}
        self.payment_intents[pi_id] = pi
        s["payment_intent"] = pi_id
        return pi

    def _new_charge(self, pi, s, status, method, email, name, failure=None):
        ok = status == "succeeded"
        ch = {"id": rid("ch_3", 23), "object": "charge", "amount": pi["amount"],
              "amount_captured": pi["amount"] if ok else 0, "amount_refunded": 0,
              "application": None, "application_fee": None, "application_fee_amount": None,
              "balance_transaction": rid("txn_3", 23) if ok else None,
              "billing_details": {"address": {"city": None, "country": "AU", "line1": None,
                                              "line2": None, "postal_code": None,
                                              "state": None},
                                  "email": email, "name": name, "phone": None},
              "calculated_statement_descriptor": "STRIPE STAND-IN", "captured": ok,
              "created": now(), "currency": pi["currency"], "customer": pi["customer"],
              "description": pi["description"], "disputed": False,
              "failure_balance_transaction": None,
              "failure_code": failure["code"] if failure else None,
              "failure_message": failure["message"] if failure else None,
              "fraud_details": {}, "invoice": None, "livemode": False,
              "metadata": dict(pi["metadata"]), "on_behalf_of": None,
              "outcome": self._outcome(status, failure), "paid": ok,
              "payment_intent": pi["id"], "payment_method": pi["payment_method"],
              "payment_method_details": self._payment_method_details(method),
              "receipt_email": pi["receipt_email"], "receipt_number": None,
              "receipt_url": None, "refunded": False, "review": None, "shipping": None,
              "source": None, "source_transfer": None, "statement_descriptor": None,
              "statement_descriptor_suffix": None, "status": status, "transfer_data": None,
              "transfer_group": None, "_seq": self.next_seq()}
        self.charges[ch["id"]] = ch
        pi["latest_charge"] = ch["id"]
        return ch

    @staticmethod
    def _outcome(status, failure):
        if status == "failed":
            return {"network_status": "declined_by_network",
                    "reason": (failure or {}).get("decline_code") or "generic_decline",
                    "risk_level": "normal", "risk_score": 40,
                    "seller_message": "The bank did not return any further details with "
                                      "this decline.", "type": "issuer_declined"}
        if status == "pending":
            return None
        return {"network_status": "approved_by_network", "reason": None,
                "risk_level": "normal", "risk_score": 32,
                "seller_message": "Payment complete.", "type": "authorized"}

    def async_result(self, pi, succeed, opts):
        """Settle a processing PaymentIntent (of an async checkout) or fail any unsettled one."""
        with self.lock:
            s = self.sessions.get(pi.get("_session"))
            url = opts.get("webhook_url")
            ch = self.charges.get(pi.get("latest_charge"))
            events = []
            if succeed:
                if pi["status"] != "processing":
                    raise CtlError(409, "payment_intent %s is %s, not processing"
                                   % (pi["id"], pi["status"]))
                pi.update(status="succeeded", amount_received=pi["amount"])
                if ch is not None:
                    ch.update(status="succeeded", paid=True, captured=True,
                              amount_captured=ch["amount"],
                              balance_transaction=rid("txn_3", 23),
                              outcome=self._outcome("succeeded", None))
                if s is not None:
                    s["payment_status"] = "paid"
                    events.append(self.event("checkout.session.async_payment_succeeded",
                                             "checkout.session", s, url))
                events.append(self.event("payment_intent.succeeded", "payment_intent", pi,
                                         url))
            else:
                if pi["status"] in ("succeeded", "canceled"):
                    raise CtlError(409, "payment_intent %s is %s and cannot fail"
                                   % (pi["id"], pi["status"]))
                failure = {"code": opts.get("code") or "card_declined",
                           "decline_code": opts.get("decline_code") or "generic_decline",
                           "message": opts.get("message") or "Your card was declined."}
                was_processing = pi["status"] == "processing"
                if was_processing:
                    failure = {"code": opts.get("code") or "debit_not_authorized",
                               "decline_code": opts.get("decline_code"),
                               "message": opts.get("message") or
                               "The customer's bank account could not be debited."}
                method = pi["payment_method_types"][0]
                if ch is None or ch["status"] != "pending":
                    cd = self._customer_details(s or {}, opts)
                    pi["payment_method"] = rid("pm_1", 23)
                    ch = self._new_charge(pi, s or {}, "failed", method, cd["email"],
                                          cd["name"], failure)
                else:
                    ch.update(status="failed", failure_code=failure["code"],
                              failure_message=failure["message"],
                              outcome=self._outcome("failed", failure))
                err = {"code": failure["code"], "decline_code": failure["decline_code"],
                       "doc_url": "https://stripe.com/docs/error-codes/"
                                  + failure["code"].replace("_", "-"),
                       "message": failure["message"], "payment_method": {
                           "id": pi["payment_method"], "object": "payment_method",
                           "type": method}, "type": "card_error"
                       if method == "card" else "invalid_request_error"}
                if err["decline_code"] is None:
                    del err["decline_code"]
                pi.update(status="requires_payment_method", last_payment_error=err,
                          payment_method=None)
                if s is not None and s["status"] == "complete" and was_processing:
                    events.append(self.event("checkout.session.async_payment_failed",
                                             "checkout.session", s, url))
                events.append(self.event("payment_intent.payment_failed", "payment_intent",
                                         pi, url))
            self.save()
        out = self.outcome(events, opts)
        with self.lock:
            out["payment_intent"] = self.render("payment_intent", pi)
            if ch is not None:
                out["charge"] = self.render("charge", ch)
            if s is not None:
                out["session"] = self.render("checkout.session", s)
        return out

    def refund(self, ch, amount, reason, metadata, request=None, target_url=None, param=None):
        """Refund amount (None: the rest) of a charge; raises ApiError like Stripe."""
        with self.lock:
            if ch["status"] != "succeeded":
                raise ApiError(400, "This charge (%s) has not succeeded and cannot be refunded."
                               % ch["id"], param=param)
            if ch["refunded"] or ch["amount_refunded"] >= ch["amount"]:
                raise ApiError(400, "Charge %s has already been refunded." % ch["id"],
                               code="charge_already_refunded", executed=True)
            dp = self.dispute_of(ch)
            if dp is not None and not dp["is_charge_refundable"]:
                raise ApiError(400, "Charge %s has been charged back; cannot issue a refund."
                               % ch["id"], code="charge_disputed", executed=True)
            rest = ch["amount"] - ch["amount_refunded"]
            if amount is None:
                amount = rest
            if amount > rest:
                raise ApiError(400, "Refund amount (%s) is greater than unrefunded amount on "
                               "charge (%s)" % (money(amount, ch["currency"]),
                                                money(rest, ch["currency"])),
                               code="amount_too_large", param="amount")
            re_ = {"id": rid("re_3", 23), "object": "refund", "amount": amount,
                   "balance_transaction": rid("txn_3", 23), "charge": ch["id"],
                   "created": now(), "currency": ch["currency"],
                   "destination_details": {"card": {"reference_status": "pending",
                                                    "reference_type":
                                                        "acquirer_reference_number",
                                                    "type": "refund"}, "type": "card"},
                   "metadata": metadata or {}, "payment_intent": ch["payment_intent"],
                   "reason": reason, "receipt_number": None,
                   "source_transfer_reversal": None, "status": "succeeded",
                   "transfer_reversal": None, "_seq": self.next_seq()}
            self.refunds[re_["id"]] = re_
            previous = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
            ch["amount_refunded"] += amount
            ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
            ev = self.event("charge.refunded", "charge", ch, target_url, request, previous)
            self.save()
            return re_, ch, [ev]

    def dispute_of(self, ch):
        """The (newest) dispute of a charge, or None (call with the lock)."""
        found = [d for d in self.disputes.values() if d["charge"] == ch["id"]]
        return max(found, key=lambda d: d["_seq"]) if found else None

    def dispute(self, ch, opts):
        """The cardholder disputes a succeeded charge (a control call; raises CtlError)."""
        reason = opts.get("reason") or "fraudulent"
        if reason not in DISPUTE_REASONS:
            raise CtlError(400, "reason must be one of %s" % ", ".join(DISPUTE_REASONS))
        amount = opts.get("amount")
        if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)
                                   or amount < 1):
            raise CtlError(400, "amount must be a positive integer")
        metadata = opts.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise CtlError(400, "metadata must be an object")
        refundable = opts.get("is_charge_refundable", False)
        if not isinstance(refundable, bool):
            raise CtlError(400, "is_charge_refundable must be true or false")
        with self.lock:
            if ch["status"] != "succeeded":
                raise CtlError(409, "charge %s is %s, not succeeded, and cannot be disputed"
                               % (ch["id"], ch["status"]))
            if ch["disputed"] or self.dispute_of(ch) is not None:
                raise CtlError(409, "charge %s is already disputed" % ch["id"])
            rest = ch["amount"] - ch["amount_refunded"]
            if rest <= 0:
                raise CtlError(409, "charge %s is fully refunded; nothing left to dispute"
                               % ch["id"])
            if amount is None:
                amount = rest
            if amount > rest:
                raise CtlError(400, "amount %d is greater than the charge's unrefunded amount "
                               "%d" % (amount, rest))
            created = now()
            # evidence is due at the end of the day (UTC) DISPUTE_RESPONSE_DAYS from now
            due_by = (created // 86400 + DISPUTE_RESPONSE_DAYS + 1) * 86400 - 1
            pmd = ch.get("payment_method_details") or {}
            if pmd.get("type") == "card":
                dpmd = {"card": {"brand": (pmd.get("card") or {}).get("brand") or "visa",
                                 "case_type": "chargeback",
                                 "network_reason_code": VISA_REASON_CODES.get(reason,
                                                                              "13.7")},
                        "type": "card"}
            else:
                dpmd = None
            dp = {"id": rid("dp_1", 23), "object": "dispute", "amount": amount,
                  "balance_transactions": [], "charge": ch["id"], "created": created,
                  "currency": ch["currency"],
                  "evidence": {k: None for k in DISPUTE_EVIDENCE_FIELDS},
                  "evidence_details": {"due_by": due_by, "has_evidence": False,
                                       "past_due": False, "submission_count": 0},
                  "is_charge_refundable": refundable,
                  "livemode": False, "metadata": dict(metadata),
                  "payment_intent": ch.get("payment_intent"),
                  "payment_method_details": dpmd, "reason": reason,
                  "status": "needs_response", "_seq": self.next_seq()}
            self.disputes[dp["id"]] = dp
            ch["disputed"] = True
            evs = [self.event("charge.dispute.created", "dispute", dp, opts.get("webhook_url"))]
            if opts.get("withdraw"):
                dp["balance_transactions"] = [self.dispute_txn(dp, -amount, "Chargeback "
                                                               "withdrawal for " + ch["id"])]
                evs.append(self.event("charge.dispute.funds_withdrawn", "dispute", dp,
                                      opts.get("webhook_url")))
            self.save()
            return dp, ch, evs

    def dispute_txn(self, dp, amount, description):
        """A balance transaction of a dispute (call with the lock)."""
        return {"id": rid("txn_1", 23), "object": "balance_transaction", "amount": amount,
                "currency": dp["currency"], "description": description,
                "fee": 1500 if amount < 0 else -1500, "net": amount - 1500 if amount < 0
                else amount + 1500, "reporting_category": "dispute" if amount < 0
                else "dispute_reversal", "status": "available", "type": "adjustment",
                "created": now()}

    def close_dispute(self, dp, opts):
        """The bank decides a dispute (a control call; raises CtlError)."""
        status = opts.get("status")
        if status not in ("won", "lost", "warning_closed"):
            raise CtlError(400, "status must be won, lost or warning_closed")
        with self.lock:
            if dp["status"] in ("won", "lost", "warning_closed"):
                raise CtlError(409, "dispute %s is closed already (%s)" % (dp["id"],
                                                                           dp["status"]))
            previous = {"status": dp["status"]}
            dp["status"] = status
            evs = [self.event("charge.dispute.closed", "dispute", dp, opts.get("webhook_url"),
                              previous=previous)]
            if status == "won" and dp["balance_transactions"]:
                dp["balance_transactions"].append(self.dispute_txn(
                    dp, dp["amount"], "Chargeback reversal for " + dp["charge"]))
                evs.append(self.event("charge.dispute.funds_reinstated", "dispute", dp,
                                      opts.get("webhook_url")))
            self.save()
            return dp, evs


def api_refund(st, m, p, ctx):
    check_unknown(p, {"amount", "charge", "payment_intent", "reason", "metadata", "expand",
                      "instructions_email", "origin", "refund_application_fee",
                      "reverse_transfer", "currency", "customer"}, "")
    expand = parse_expand(p, "refund")
    amount = opt_int(p, "amount", "", minimum=1)
    reason = opt_str(p, "reason", "", enum=("duplicate", "fraudulent",
                                            "requested_by_customer"))
    metadata = opt_metadata(p, "metadata", "")
    chid = opt_str(p, "charge", "")
    piid = opt_str(p, "payment_intent", "")
    if chid and piid:
        raise ApiError(400, "You may only specify one of these parameters: charge, "
                       "payment_intent.", param="payment_intent")
    if not chid and not piid:
        raise ApiError(400, "One of the following params should be provided for this request:"
                       " payment_intent or charge.", code="parameter_missing",
                       param="payment_intent")
    with st.lock:
        if piid:
            pi = st.get("payment_intent", piid, param="payment_intent")
            ch = st.charges.get(pi.get("latest_charge"))
            if ch is None or pi["status"] != "succeeded":
                raise ApiError(400, "This PaymentIntent (%s) does not have a successful charge "
                               "to refund." % piid, param="payment_intent")
        else:
            ch = st.get("charge", chid, param="charge")
        re_, ch, events = st.refund(ch, amount, reason, metadata, request=ctx["request"],
                                    param="payment_intent" if piid else "charge")
        out = st.render("refund", re_, expand)
    st.enqueue(events)
    return 200, out
