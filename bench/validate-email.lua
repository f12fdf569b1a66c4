-- wrk script: POST /v1/coupons/validate with a valid coupon, a plan and a buyer's email.
-- SAVE20 has a per-buyer limit (perUserLimit in sql/seed/coupons.json), so the validation
-- also counts this buyer's uses of it.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"code":"SAVE20","planId":"full-6months","email":"bench@example.com"}'
