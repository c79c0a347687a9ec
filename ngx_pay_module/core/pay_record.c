/*
 * Copyright (C) ngx_pay authors
 *
 * Store records as Redis values: a tag byte and a payload.
 */


#include <string.h>

#include "pay_record.h"


size_t
pay_record_size(size_t payload_len)
{
    if (payload_len == (size_t) -1) {
        return 0;
    }

    return payload_len + 1;
}


size_t
pay_record_encode(pay_record_state_e state, const unsigned char *payload,
    size_t payload_len, unsigned char *out)
{
    switch (state) {

    case PAY_RECORD_DONE:
        out[0] = PAY_RECORD_TAG_DONE;
        break;

    case PAY_RECORD_UNKNOWN:
        out[0] = PAY_RECORD_TAG_UNKNOWN;
        break;

    default: /* PAY_RECORD_PROCESSING */
        out[0] = PAY_RECORD_TAG_PROCESSING;
        break;
    }

    if (payload_len) {
        memcpy(out + 1, payload, payload_len);
    }

    return payload_len + 1;
}


int
pay_record_parse(const unsigned char *v, size_t len,
    pay_record_state_e *state, const unsigned char **payload,
    size_t *payload_len)
{
    size_t              i;
    pay_record_state_e  s;

    if (v == NULL || len == 0) {
        return -1;
    }

    switch (v[0]) {

    case PAY_RECORD_TAG_PROCESSING:

        /*
         * every claim has a token of hex digits: "P" alone, or "P" and
         * anything else, was not written by us
         */
        if (len == 1 || len - 1 > PAY_RECORD_TOKEN_MAX) {
            return -1;
        }

        for (i = 1; i < len; i++) {
            if ((v[i] < '0' || v[i] > '9') && (v[i] < 'a' || v[i] > 'f')) {
                return -1;
            }
        }

        s = PAY_RECORD_PROCESSING;
        break;

    case PAY_RECORD_TAG_DONE:
        s = PAY_RECORD_DONE;
        break;

    case PAY_RECORD_TAG_UNKNOWN:

        /* written without a payload: "U" and nothing else */
        if (len != 1) {
            return -1;
        }

        s = PAY_RECORD_UNKNOWN;
        break;

    default:
        return -1;
    }

    *state = s;
    *payload = v + 1;
    *payload_len = len - 1;

    return 0;
}
