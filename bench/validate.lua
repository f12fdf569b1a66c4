-- wrk script: POST /v1/coupons/validate with a valid coupon and plan (a warm-cache read).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"code":"SAVE20","planId":"full-6months"}'
