/*
 * Copyright (C) ngx_pay authors
 *
 * Identity of a verified webhook event, read from its JSON body.
 */


#include <string.h>

#include <jansson.h>

#include "pay_event.h"


/*
 * JSON_REJECT_DUPLICATES: two "id" keys must not let the edge and the app
 * disagree on the event.  json_loadb() also rejects trailing bytes (no
 * JSON_DISABLE_EOF_CHECK) and top-level scalars (no JSON_DECODE_ANY).
 *
 * The body was signed by the provider, so it is rejected only for what
 * concerns us: JSON_ALLOW_NUL keeps a "\u0000" in some unrelated string
 * from failing a genuine event (id and type are checked byte by byte
 * below, so no NUL gets through there), and JSON_DECODE_INT_AS_REAL keeps
 * an integer beyond 64 bits anywhere in the event from doing the same.
 */
#define PAY_EVENT_JSON_FLAGS                                                  \
    (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL)


static int pay_event_copy_field(json_t *root, const char *name, char *dst,
    size_t *dst_len);


/*
 * A string of 1..PAY_EVENT_FIELD_MAX bytes, each visible ASCII 0x21..0x7e,
 * copied NUL-terminated into dst.  Returns 0, 1 when the member is absent
 * (dst untouched), or -1 when it is there but not such a string.
 */

static int
pay_event_copy_field(json_t *root, const char *name, char *dst,
    size_t *dst_len)
{
    size_t       len, i;
    json_t      *field;
    const char  *value;

    field = json_object_get(root, name);

    if (field == NULL) {
        return 1;
    }

    if (!json_is_string(field)) {
        return -1;
    }

    value = json_string_value(field);
    len = json_string_length(field);

    if (len == 0 || len > PAY_EVENT_FIELD_MAX) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) value[i] < 0x21 || (unsigned char) value[i] > 0x7e)
        {
            return -1;
        }
    }

    memcpy(dst, value, len);
    dst[len] = '\0';
    *dst_len = len;

    return 0;
}


pay_rc_e
pay_event_parse_stripe(const unsigned char *body, size_t len,
    pay_event_t *ev)
{
    json_t  *root, *livemode;

    memset(ev, 0, sizeof(pay_event_t));
    ev->livemode = -1;

    if (body == NULL || len == 0) {
        return PAY_ERR_BODY_MALFORMED;
    }

    root = json_loadb((const char *) body, len, PAY_EVENT_JSON_FLAGS, NULL);

    if (root == NULL) {
        return PAY_ERR_BODY_MALFORMED;
    }

    /* a type is optional (Stripe's own test vectors have none) */
    if (!json_is_object(root)
        || pay_event_copy_field(root, "id", ev->id, &ev->id_len) != 0
        || pay_event_copy_field(root, "type", ev->type, &ev->type_len) < 0)
    {
        goto malformed;
    }

    livemode = json_object_get(root, "livemode");

    if (livemode != NULL && json_is_boolean(livemode)) {
        ev->livemode = json_is_true(livemode) ? 1 : 0;
    }

    json_decref(root);

    return PAY_OK;

malformed:

    json_decref(root);

    memset(ev, 0, sizeof(pay_event_t));
    ev->livemode = -1;

    return PAY_ERR_BODY_MALFORMED;
}
