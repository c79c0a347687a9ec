/*
 * Copyright (C) ngx_pay authors
 *
 * Identity of a verified webhook event, read from its JSON body with
 * pay_json (docs/providers.md), and its neutral kind (pay_kind.h).
 * Pure C.
 */


#ifndef PAY_EVENT_H_INCLUDED_
#define PAY_EVENT_H_INCLUDED_


#include <stddef.h>

#include "pay_error.h"
#include "pay_kind.h"


#define PAY_EVENT_FIELD_MAX  255


/*
 * kind: pay_event_kind() of the type, a static string; never NULL after a
 * successful parse, NULL after a failed one.
 */
typedef struct {
    char         id[PAY_EVENT_FIELD_MAX + 1];    /* NUL-terminated */
    size_t       id_len;
    char         type[PAY_EVENT_FIELD_MAX + 1];  /* NUL-terminated */
    size_t       type_len;
    int          livemode;                       /* 1, 0, or -1: unknown */
    const char  *kind;
} pay_event_t;


/*
 * The rule of every id and type: 1..PAY_EVENT_FIELD_MAX bytes, each
 * visible ASCII 0x21..0x7e (these values travel in request headers to the
 * app, so CR, LF, spaces and control bytes must never get through).
 * Returns 0 when value[0..len) follows it, -1 otherwise (NULL included).
 */
int pay_event_field_check(const char *value, size_t len);


/*
 * Stripe: the body must be one JSON object (no trailing bytes) with an
 * "id" string and an optional "type" string (left empty when absent:
 * Stripe's published test vectors have none), each of 1..255 bytes once
 * decoded, each byte visible ASCII 0x21..0x7e (these values travel in
 * request headers to the app, so CR, LF, spaces and control bytes must
 * never get through), and an optional boolean "livemode" (anything else
 * there leaves it unknown).  Names are compared decoded ("\u0069d" is
 * "id").  A second top-level "id", "type" or "livemode" is rejected, so
 * the edge and the app cannot read different ones; other duplicate keys,
 * nested ones included, are accepted (jansson's JSON_REJECT_DUPLICATES,
 * used before, rejected them all).  Otherwise pay_json's rules
 * (pay_json.h): strict RFC 8259, valid UTF-8, nesting up to 2048; a
 * "\u0000" or a huge number elsewhere in the body does not fail it.
 * Returns PAY_OK with ev filled in (kind from the type, "other" when
 * there is none), or PAY_ERR_BODY_MALFORMED (ev then zeroed, livemode -1,
 * kind NULL).  body may be NULL when len is 0.
 */
pay_rc_e pay_event_parse_stripe(const unsigned char *body, size_t len,
    pay_event_t *ev);

/*
 * Square: as Stripe, but the id is the top-level "event_id" (required)
 * and "type" is required.  livemode stays -1: the glue sets it from the
 * square-environment header, which is not signed.  The kind is refined by
 * data.object.<object>.status (data.object.dispute.state for dispute.*),
 * where <object> is what the type starts with (payment, refund, dispute,
 * subscription): that path is read only when every object on it is an
 * object, no name on it appears twice at its level, and the value is an
 * ASCII string of at most 32 bytes; otherwise the status is unknown and
 * the kind is what the type alone gives (so no two readers of a body with
 * duplicate names can be told different kinds by the edge).  A malformed
 * path never fails the parse.  Each nested object on the path is scanned
 * once more: at most four linear passes over the body.
 */
pay_rc_e pay_event_parse_square(const unsigned char *body, size_t len,
    pay_event_t *ev);

/*
 * PayPal: as Stripe, but the type is the top-level "event_type" and both
 * "id" and "event_type" are required.  livemode stays -1 (PayPal has no
 * such field; the glue may know from the certificate or the configuration).
 */
pay_rc_e pay_event_parse_paypal(const unsigned char *body, size_t len,
    pay_event_t *ev);

/*
 * Standard Webhooks: the id is the webhook-id header value (id, id_len),
 * checked with pay_event_field_check() and copied into ev->id; the body
 * must be one JSON object (pay_json's rules) with an optional "type"
 * (when present, a string following pay_event_field_check(), and not
 * repeated).  livemode -1.  Returns PAY_OK, PAY_ERR_SIGNATURE_MISSING (id
 * NULL or empty) or PAY_ERR_SIGNATURE_MALFORMED (id breaks the rule): the
 * same codes as pay_standard_verify() for the same header, checked before
 * the body; or PAY_ERR_BODY_MALFORMED.  On an error ev is cleared as
 * above.
 */
pay_rc_e pay_event_parse_standard(const unsigned char *body, size_t len,
    const char *id, size_t id_len, pay_event_t *ev);


#endif /* PAY_EVENT_H_INCLUDED_ */
