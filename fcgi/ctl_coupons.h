/*
 * prodenthubctl coupon-check: read every coupon record as the workers read it and list those
 * they would refuse (lib/coupon.h, COUPON_MISCONFIGURED) or that name a plan the catalogue
 * does not hold.
 */
#ifndef PH_CTL_COUPONS_H
#define PH_CTL_COUPONS_H

struct cfg;
struct ddb;

/*
 * Scan the coupons and catalogue tables of cfg; print one line per faulty coupon on stdout
 * ("CODE<TAB>MISCONFIGURED<TAB>why" or "CODE<TAB>UNKNOWN_PLAN<TAB>..."), then a summary.
 * Returns the exit status: 0 when every coupon reads fully, 1 when any does not or a table
 * could not be read (said on stderr).
 */
int ctl_coupon_check(const struct cfg *cfg, struct ddb *ddb);

#endif
