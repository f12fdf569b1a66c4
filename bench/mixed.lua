-- wrk script: a mixed load for bench/soak, one request of each kind in turn: the cached
-- reads, validations (with an email: many buyers, so the counters' cache keys vary), an
-- unknown coupon, a body with an unknown field (400), an unknown route (404), the health.
local n = 0
local kinds = {
    {"GET", "/v1/plans/full-6months", nil},
    {"GET", "/v1/mock-exams", nil},
    {"POST", "/v1/coupons/validate", '{"code":"SAVE20","planId":"full-6months"}'},
    {"POST", "/v1/coupons/validate", '{"code":"SAVE20","planId":"full-6months","email":"soak%d@example.com"}'},
    {"POST", "/v1/coupons/validate", '{"code":"NOPE%d","planId":"full-6months"}'},
    {"POST", "/v1/coupons/validate", '{"code":"SAVE20","planId":"full-6months","extra":1}'},
    {"GET", "/v1/no-such-route", nil},
    {"GET", "/v1/health", nil},
}

request = function()
    n = n + 1
    local k = kinds[n % #kinds + 1]
    local body = k[3] and string.format(k[3], n % 1000) or nil
    local headers = body and {["Content-Type"] = "application/json"} or {}
    return wrk.format(k[1], k[2], headers, body)
end
