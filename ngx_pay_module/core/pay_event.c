/*
 * Copyright (C) ngx_pay authors
 *
 * Identity of a verified webhook event, read from its JSON body.
 *
 * pay_json validates the whole body in one pass and points at the three
 * top-level members needed; nothing else of the event is decoded or
 * allocated.
 */


#include <string.h>

#include "pay_event.h"
#include "pay_json.h"


#define PAY_EVENT_ID        0
#define PAY_EVENT_TYPE      1
#define PAY_EVENT_LIVEMODE  2
#define PAY_EVENT_MEMBERS   3


static int pay_event_copy_field(const pay_json_member_t *m, char *dst,
    size_t *dst_len);


/*
 * A string of 1..PAY_EVENT_FIELD_MAX bytes once decoded, each visible
 * ASCII 0x21..0x7e, copied NUL-terminated into dst (PAY_EVENT_FIELD_MAX + 1
 * bytes).  Returns 0 or -1.
 */

static int
pay_event_copy_field(const pay_json_member_t *m, char *dst, size_t *dst_len)
{
    size_t  len, i;

    if (m->type != PAY_JSON_STRING
        || pay_json_string_ascii(m->value, m->len, dst,
                                 PAY_EVENT_FIELD_MAX + 1, &len)
           != 0
        || len == 0)
    {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) dst[i] < 0x21 || (unsigned char) dst[i] > 0x7e) {
            return -1;
        }
    }

    *dst_len = len;

    return 0;
}


pay_rc_e
pay_event_parse_stripe(const unsigned char *body, size_t len,
    pay_event_t *ev)
{
    pay_json_member_t  m[PAY_EVENT_MEMBERS];

    memset(ev, 0, sizeof(pay_event_t));
    ev->livemode = -1;

    m[PAY_EVENT_ID].name = "id";
    m[PAY_EVENT_TYPE].name = "type";
    m[PAY_EVENT_LIVEMODE].name = "livemode";

    if (pay_json_scan_object(body, len, m, PAY_EVENT_MEMBERS) != 0) {
        return PAY_ERR_BODY_MALFORMED;
    }

    /* a type is optional (Stripe's own test vectors have none) */
    if (pay_event_copy_field(&m[PAY_EVENT_ID], ev->id, &ev->id_len) != 0
        || (m[PAY_EVENT_TYPE].type != PAY_JSON_ABSENT
            && pay_event_copy_field(&m[PAY_EVENT_TYPE], ev->type,
                                    &ev->type_len)
               != 0))
    {
        goto malformed;
    }

    if (m[PAY_EVENT_LIVEMODE].type == PAY_JSON_TRUE) {
        ev->livemode = 1;

    } else if (m[PAY_EVENT_LIVEMODE].type == PAY_JSON_FALSE) {
        ev->livemode = 0;
    }

    return PAY_OK;

malformed:

    /* a failed copy may have left decoded bytes behind */

    memset(ev, 0, sizeof(pay_event_t));
    ev->livemode = -1;

    return PAY_ERR_BODY_MALFORMED;
}
