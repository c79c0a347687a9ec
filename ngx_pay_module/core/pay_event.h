/*
 * Copyright (C) ngx_pay authors
 *
 * Identity of a verified webhook event, read from its JSON body with
 * pay_json (SPEC section 2, last rules).  Pure C.
 */


#ifndef PAY_EVENT_H_INCLUDED_
#define PAY_EVENT_H_INCLUDED_


#include <stddef.h>

#include "pay_error.h"


#define PAY_EVENT_FIELD_MAX  255


typedef struct {
    char    id[PAY_EVENT_FIELD_MAX + 1];      /* NUL-terminated */
    size_t  id_len;
    char    type[PAY_EVENT_FIELD_MAX + 1];    /* NUL-terminated */
    size_t  type_len;
    int     livemode;                         /* 1, 0, or -1: unknown */
} pay_event_t;


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
 * Returns PAY_OK with ev filled in, or PAY_ERR_BODY_MALFORMED (ev then
 * zeroed, livemode -1).  body may be NULL when len is 0.
 */
pay_rc_e pay_event_parse_stripe(const unsigned char *body, size_t len,
    pay_event_t *ev);


#endif /* PAY_EVENT_H_INCLUDED_ */
