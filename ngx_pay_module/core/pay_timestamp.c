/*
 * Copyright (C) ngx_pay authors
 *
 * Replay window shared by the timestamped providers.
 */


#include <stddef.h>

#include "pay_timestamp.h"


static int pay_timestamp_digits(const char *s, size_t n);
static long long pay_timestamp_days(long long y, int m, int d);


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


int
pay_timestamp_rfc3339(const char *s, size_t len, long long *t)
{
    int        year, month, day, hour, minute, second, mdays;
    int        offset, offset_hour, offset_minute;
    size_t     i;
    long long  days;

    static const int  month_days[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    /* "YYYY-MM-DDThh:mm:ss" and at least "Z" */
    if (s == NULL || len < 20) {
        return -1;
    }

    if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't')
        || s[13] != ':' || s[16] != ':')
    {
        return -1;
    }

    year = pay_timestamp_digits(s, 4);
    month = pay_timestamp_digits(s + 5, 2);
    day = pay_timestamp_digits(s + 8, 2);
    hour = pay_timestamp_digits(s + 11, 2);
    minute = pay_timestamp_digits(s + 14, 2);
    second = pay_timestamp_digits(s + 17, 2);

    if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0
        || hour > 23 || minute < 0 || minute > 59 || second < 0
        || second > 60)
    {
        return -1;
    }

    mdays = month_days[month - 1];

    if (month == 2
        && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
    {
        mdays = 29;
    }

    if (day > mdays) {
        return -1;
    }

    i = 19;

    if (s[i] == '.') {

        for (i++; i < len && i < 30 && s[i] >= '0' && s[i] <= '9'; i++) {
            /* void */
        }

        if (i == 20 || i == 30) {
            /* no digit after the point, or more than 9 */
            return -1;
        }
    }

    if (i == len) {
        return -1;
    }

    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        offset = 0;

    } else if ((s[i] == '+' || s[i] == '-') && i + 6 == len
               && s[i + 3] == ':')
    {
        offset_hour = pay_timestamp_digits(s + i + 1, 2);
        offset_minute = pay_timestamp_digits(s + i + 4, 2);

        if (offset_hour < 0 || offset_hour > 23 || offset_minute < 0
            || offset_minute > 59)
        {
            return -1;
        }

        offset = (offset_hour * 60 + offset_minute) * 60;

        if (s[i] == '-') {
            offset = -offset;
        }

    } else {
        return -1;
    }

    days = pay_timestamp_days(year, month, day);

    /* local time minus its offset is UTC */
    *t = days * 86400 + hour * 3600LL + minute * 60LL + second - offset;

    return 0;
}


/* n decimal digits as a number, -1 when any is not a digit */

static int
pay_timestamp_digits(const char *s, size_t n)
{
    int     v;
    size_t  i;

    v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        v = v * 10 + (s[i] - '0');
    }

    return v;
}


/*
 * Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (the "days from civil" algorithm: years start in March, so the leap
 * day is the last of its year).
 */

static long long
pay_timestamp_days(long long y, int m, int d)
{
    long long  era, yoe, doy, doe;

    if (m <= 2) {
        y--;
    }

    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}
