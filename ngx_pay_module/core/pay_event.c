/*
 * Copyright (C) ngx_pay authors
 *
 * Identity of a verified webhook event, read from its JSON body.
 *
 * pay_json validates the whole body in one pass and points at the few
 * top-level members needed; nothing else of the event is decoded or
 * allocated.  Square's kind alone looks deeper, with one more scan per
 * nested object on its path.
 */


#include <string.h>

#include "pay_event.h"
#include "pay_json.h"


/* indexes in the members wanted at the top level */
#define PAY_EVENT_ID          0
#define PAY_EVENT_TYPE        1
#define PAY_EVENT_LIVEMODE    2     /* Stripe */
#define PAY_EVENT_DATA        2     /* Square */

/* a Square status or state is a short upper-case word */
#define PAY_EVENT_STATUS_MAX  32


typedef struct {
    const char  *object;    /* the type's first segment, and the member */
    size_t       len;
    const char  *field;     /* its member that refines the kind */
} pay_event_square_object_t;


static void pay_event_clear(pay_event_t *ev);
static int pay_event_copy_field(const pay_json_member_t *m, char *dst,
    size_t *dst_len);
static int pay_event_find_member(const pay_json_member_t *in,
    pay_json_type_e type, const char *name, pay_json_member_t *out);
static void pay_event_square_status(const pay_json_member_t *data,
    const char *type, size_t type_len, char *status, size_t *status_len);


static const pay_event_square_object_t  pay_event_square_objects[] = {
    { "payment", sizeof("payment") - 1, "status" },
    { "refund", sizeof("refund") - 1, "status" },
    { "dispute", sizeof("dispute") - 1, "state" },
    { "subscription", sizeof("subscription") - 1, "status" }
};


int
pay_event_field_check(const char *value, size_t len)
{
    size_t  i;

    if (value == NULL || len == 0 || len > PAY_EVENT_FIELD_MAX) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) value[i] < 0x21
            || (unsigned char) value[i] > 0x7e)
        {
            return -1;
        }
    }

    return 0;
}


/*
 * The state every parse starts from and every failed one leaves behind: a
 * failed copy may have left decoded bytes in ev.
 */

static void
pay_event_clear(pay_event_t *ev)
{
    memset(ev, 0, sizeof(pay_event_t));
    ev->livemode = -1;
    ev->kind = NULL;
}


/*
 * A string that follows pay_event_field_check() once decoded, copied
 * NUL-terminated into dst (PAY_EVENT_FIELD_MAX + 1 bytes).  Returns 0 or
 * -1.
 */

static int
pay_event_copy_field(const pay_json_member_t *m, char *dst, size_t *dst_len)
{
    size_t  len;

    if (m->type != PAY_JSON_STRING
        || pay_json_string_ascii(m->value, m->len, dst,
                                 PAY_EVENT_FIELD_MAX + 1, &len)
           != 0
        || pay_event_field_check(dst, len) != 0)
    {
        return -1;
    }

    *dst_len = len;

    return 0;
}


/*
 * The member name of the object in (an already validated value), when it
 * is there once and of the given type.  Returns 0 with out set, or -1.
 */

static int
pay_event_find_member(const pay_json_member_t *in, pay_json_type_e type,
    const char *name, pay_json_member_t *out)
{
    if (in->type != PAY_JSON_OBJECT) {
        return -1;
    }

    out->name = name;

    if (pay_json_scan_object(in->value, in->len, out, 1) != 0
        || out->type != type)
    {
        return -1;
    }

    return 0;
}


/*
 * data.object.<object>.<field> of a Square event, into status (at least
 * PAY_EVENT_STATUS_MAX + 1 bytes); *status_len stays 0 when the path does
 * not hold exactly one such string.
 */

static void
pay_event_square_status(const pay_json_member_t *data, const char *type,
    size_t type_len, char *status, size_t *status_len)
{
    size_t                              i, n;
    pay_json_member_t                   object, inner, field;
    const pay_event_square_object_t    *o;

    *status_len = 0;
    o = NULL;

    for (i = 0; i < sizeof(pay_event_square_objects)
                    / sizeof(pay_event_square_objects[0]);
         i++)
    {
        if (type_len > pay_event_square_objects[i].len
            && type[pay_event_square_objects[i].len] == '.'
            && memcmp(type, pay_event_square_objects[i].object,
                      pay_event_square_objects[i].len)
               == 0)
        {
            o = &pay_event_square_objects[i];
            break;
        }
    }

    if (o == NULL) {
        return;
    }

    if (pay_event_find_member(data, PAY_JSON_OBJECT, "object", &object) != 0
        || pay_event_find_member(&object, PAY_JSON_OBJECT, o->object, &inner)
           != 0
        || pay_event_find_member(&inner, PAY_JSON_STRING, o->field, &field)
           != 0
        || pay_json_string_ascii(field.value, field.len, status,
                                 PAY_EVENT_STATUS_MAX + 1, &n)
           != 0)
    {
        return;
    }

    *status_len = n;
}


pay_rc_e
pay_event_parse_stripe(const unsigned char *body, size_t len,
    pay_event_t *ev)
{
    pay_json_member_t  m[3];

    pay_event_clear(ev);

    m[PAY_EVENT_ID].name = "id";
    m[PAY_EVENT_TYPE].name = "type";
    m[PAY_EVENT_LIVEMODE].name = "livemode";

    if (pay_json_scan_object(body, len, m, 3) != 0) {
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

    ev->kind = pay_event_kind(PAY_PROVIDER_STRIPE, ev->type, ev->type_len,
                              NULL, 0);

    return PAY_OK;

malformed:

    pay_event_clear(ev);

    return PAY_ERR_BODY_MALFORMED;
}


pay_rc_e
pay_event_parse_square(const unsigned char *body, size_t len,
    pay_event_t *ev)
{
    char               status[PAY_EVENT_STATUS_MAX + 1];
    size_t             status_len;
    pay_json_member_t  m[3];

    pay_event_clear(ev);

    m[PAY_EVENT_ID].name = "event_id";
    m[PAY_EVENT_TYPE].name = "type";
    m[PAY_EVENT_DATA].name = "data";

    if (pay_json_scan_object(body, len, m, 3) != 0
        || pay_event_copy_field(&m[PAY_EVENT_ID], ev->id, &ev->id_len) != 0
        || pay_event_copy_field(&m[PAY_EVENT_TYPE], ev->type, &ev->type_len)
           != 0)
    {
        goto malformed;
    }

    pay_event_square_status(&m[PAY_EVENT_DATA], ev->type, ev->type_len,
                            status, &status_len);

    ev->kind = pay_event_kind(PAY_PROVIDER_SQUARE, ev->type, ev->type_len,
                              status, status_len);

    return PAY_OK;

malformed:

    pay_event_clear(ev);

    return PAY_ERR_BODY_MALFORMED;
}


pay_rc_e
pay_event_parse_paypal(const unsigned char *body, size_t len,
    pay_event_t *ev)
{
    pay_json_member_t  m[2];

    pay_event_clear(ev);

    m[PAY_EVENT_ID].name = "id";
    m[PAY_EVENT_TYPE].name = "event_type";

    if (pay_json_scan_object(body, len, m, 2) != 0
        || pay_event_copy_field(&m[PAY_EVENT_ID], ev->id, &ev->id_len) != 0
        || pay_event_copy_field(&m[PAY_EVENT_TYPE], ev->type, &ev->type_len)
           != 0)
    {
        goto malformed;
    }

    ev->kind = pay_event_kind(PAY_PROVIDER_PAYPAL, ev->type, ev->type_len,
                              NULL, 0);

    return PAY_OK;

malformed:

    pay_event_clear(ev);

    return PAY_ERR_BODY_MALFORMED;
}


pay_rc_e
pay_event_parse_standard(const unsigned char *body, size_t len,
    const char *id, size_t id_len, pay_event_t *ev)
{
    pay_json_member_t  type;

    pay_event_clear(ev);

    if (id == NULL || id_len == 0) {
        return PAY_ERR_SIGNATURE_MISSING;
    }

    if (pay_event_field_check(id, id_len) != 0) {
        return PAY_ERR_SIGNATURE_MALFORMED;
    }

    type.name = "type";

    if (pay_json_scan_object(body, len, &type, 1) != 0
        || (type.type != PAY_JSON_ABSENT
            && pay_event_copy_field(&type, ev->type, &ev->type_len) != 0))
    {
        goto malformed;
    }

    memcpy(ev->id, id, id_len);
    ev->id[id_len] = '\0';
    ev->id_len = id_len;

    ev->kind = pay_event_kind(PAY_PROVIDER_STANDARD, ev->type, ev->type_len,
                              NULL, 0);

    return PAY_OK;

malformed:

    pay_event_clear(ev);

    return PAY_ERR_BODY_MALFORMED;
}
