/*
 * Copyright (C) ngx_pay authors
 *
 * Replay window shared by the timestamped providers.  Pure C.
 */


#ifndef PAY_TIMESTAMP_H_INCLUDED_
#define PAY_TIMESTAMP_H_INCLUDED_


#include "pay_error.h"


/*
 * PAY_OK when |now - t| <= tolerance, or tolerance is 0 (check disabled);
 * PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE otherwise.  Both directions count:
 * a timestamp from the future is as suspicious as a stale one.  Must not
 * overflow for any inputs (t may be up to 19 digits).  A negative
 * tolerance accepts nothing (fails closed).
 */
pay_rc_e pay_timestamp_check(long long t, long long now, long long tolerance);

/*
 * An RFC 3339 date-time (section 5.6), as Square writes created_at
 * ("2022-07-13T20:30:59.037339943Z"): YYYY-MM-DD, "T" (or "t"),
 * hh:mm:ss, an optional fraction of 1 to 9 digits (dropped), then "Z"
 * (or "z") or an offset +hh:mm / -hh:mm.  Ranges are checked (the day
 * against its month, leap years included; a leap second :60 counts as
 * the next second); nothing else is accepted, no space anywhere.  Returns
 * 0 with *t the seconds since 1970-01-01T00:00:00Z (negative before it),
 * or -1 with *t untouched.  s may be NULL when len is 0.
 */
int pay_timestamp_rfc3339(const char *s, size_t len, long long *t);


#endif /* PAY_TIMESTAMP_H_INCLUDED_ */
