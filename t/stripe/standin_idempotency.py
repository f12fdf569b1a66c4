"""Idempotency-Key records of the Stripe stand-in, a part of its Store (standin_store.py): a
POST with a key begins a record (in progress: a second request with the key gets 409), then
finishes it with the answer to replay, or drops it (a request that failed validation keeps no
result, as Stripe does); records live 24 hours and are pruned when there are too many."""

from standin_common import IDEMPOTENCY_MAX, IDEMPOTENCY_TTL, ApiError, now


class Idempotency:
    """Uses the Store's lock, idem (scope + NUL + key -> record), replays,
    idempotency_errors and save()."""

    def idem_begin(self, scope, key, endpoint, fingerprint):
        with self.lock:
            k = scope + "\x00" + key
            rec = self.idem.get(k)
            if rec and rec["created"] < now() - IDEMPOTENCY_TTL:
                del self.idem[k]
                rec = None
            if rec is None:
                if len(self.idem) >= IDEMPOTENCY_MAX:
                    self.prune_idem(force=True)
                self.idem[k] = {"endpoint": endpoint, "fingerprint": fingerprint,
                                "created": now(), "in_progress": True}
                return None
            if rec.get("in_progress"):
                self.idempotency_errors += 1
                raise ApiError(409, "There is currently another in-progress request using this "
                               "Idempotent Key (probably because of a timeout). Please retry "
                               "this request later.", type_="idempotency_error",
                               code="idempotency_key_in_use")
            if rec["endpoint"] != endpoint:
                self.idempotency_errors += 1
                raise ApiError(400, "Keys for idempotent requests can only be used for the same "
                               "endpoint they were first used for ('%s' vs '%s'). Try using a "
                               "key other than '%s' if you meant to execute a different "
                               "request." % (rec["endpoint"], endpoint, key),
                               type_="idempotency_error")
            if rec["fingerprint"] != fingerprint:
                self.idempotency_errors += 1
                raise ApiError(400, "Keys for idempotent requests can only be used with the "
                               "same parameters they were first used with. Try using a key "
                               "other than '%s' if you meant to execute a different request."
                               % key, type_="idempotency_error")
            self.replays += 1
            return rec

    def idem_finish(self, scope, key, status, body, request_id):
        with self.lock:
            rec = self.idem.get(scope + "\x00" + key)
            if rec is not None:
                rec.update(in_progress=False, status=status, body=body.decode("utf-8"),
                           request_id=request_id)
            self.save()

    def idem_abort(self, scope, key):
        with self.lock:
            rec = self.idem.get(scope + "\x00" + key)
            if rec is not None and rec.get("in_progress"):
                del self.idem[scope + "\x00" + key]

    def prune_idem(self, force=False):
        with self.lock:
            cut = now() - IDEMPOTENCY_TTL
            for k in [k for k, r in self.idem.items() if r["created"] < cut]:
                del self.idem[k]
            if force and len(self.idem) >= IDEMPOTENCY_MAX:
                done = sorted((r["created"], k) for k, r in self.idem.items()
                              if not r.get("in_progress"))
                for _, k in done[:len(done) // 2]:
                    del self.idem[k]
