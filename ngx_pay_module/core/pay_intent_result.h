/*
 * Copyright (C) ngx_pay authors
 *
 * The normalized result of an intent as JSON: what the client is sent
 * and the store keeps, written by hand and read back; and the rule of
 * the strings a result holds.  Pure C.
 */


#ifndef PAY_INTENT_RESULT_H_INCLUDED_
#define PAY_INTENT_RESULT_H_INCLUDED_


#include <stddef.h>

#include "pay_json.h"
#include "pay_provider_api.h"


/*
 * The normalized result, compact JSON without a LF:
 *   {"provider":"stripe","id":"pi_..","status":"requires_payment_method",
 *    "client_secret":"..","amount":2000,"currency":"usd"}
 * with "approve_url" or "payment_link_url" in place of "client_secret",
 * or none of them.  Returns the length, written to out only when it is
 * not more than size (NULL, 0 gives the size), or 0 on failure: a result
 * pay_intent_result_parse() would not read back (an empty or not visible
 * ASCII value, an amount under 1, an unknown or uppercase currency).
 */
size_t pay_intent_result_json(const pay_intent_result_t *result, char *out,
    size_t size);

/*
 * Reads back what pay_intent_result_json() wrote (a stored record, which
 * may come from Redis: anything is checked, as strictly as a fresh
 * answer): exactly the bytes that function writes for what is read (its
 * members in its order, no whitespace, no escape but \" and \\); a
 * provider that makes intents; an id, a status and the link (at most
 * one) of visible ASCII within the result's sizes, as
 * pay_provider_normalize() keeps them; a positive integer amount; a
 * lowercase ISO 4217 currency with a minor unit.  0, or -1 with result
 * zeroed.
 */
int pay_intent_result_parse(const unsigned char *json, size_t len,
    pay_intent_result_t *result);

/*
 * The member name of a result's link: "client_secret", "approve_url",
 * "payment_link_url", or NULL for PAY_INTENT_LINK_NONE.
 */
const char *pay_intent_link_name(pay_intent_link_e link);

/*
 * The rule of every string a result keeps (they reach headers and logs
 * through variables): 1..max visible ASCII bytes (0x21..0x7e), copied to
 * dst (which may be s) and NUL-terminated.  0, or -1 with dst empty.
 */
int pay_intent_visible_copy(const char *s, size_t len, char *dst,
    size_t max);

/*
 * The same rule for a member pay_json_scan_object() found, which must be
 * a string; its escapes are decoded first.
 */
int pay_intent_scanned_copy(const pay_json_member_t *m, char *dst,
    size_t max);


#endif /* PAY_INTENT_RESULT_H_INCLUDED_ */
