/*
 * Copyright (C) ngx_pay authors
 *
 * Replay window shared by the timestamped providers.
 */


#include "pay_timestamp.h"


pay_rc_e
pay_timestamp_check(long long t, long long now, long long tolerance)
{
    unsigned long long  distance;

    if (tolerance == 0) {
        return PAY_OK;
    }

    if (tolerance < 0) {
        /* no distance is within a negative window: fail closed */
        return PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE;
    }

    /*
     * |now - t| computed in unsigned arithmetic: the conversions are
     * modulo 2^64 and the true distance of two long longs always fits in
     * an unsigned long long, so the difference is exact, with no signed
     * overflow whatever the inputs.
     */

    if (t >= now) {
        distance = (unsigned long long) t - (unsigned long long) now;

    } else {
        distance = (unsigned long long) now - (unsigned long long) t;
    }

    if (distance > (unsigned long long) tolerance) {
        return PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE;
    }

    return PAY_OK;
}
