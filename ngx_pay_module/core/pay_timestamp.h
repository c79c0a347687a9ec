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


#endif /* PAY_TIMESTAMP_H_INCLUDED_ */
