/*
 * Copyright (C) ngx_pay authors
 *
 * The normalized result of an intent as the JSON the client is sent and
 * the store keeps, written and read back, and the rule of its strings.
 * Pure C, no allocation.
 */


#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "pay_currency.h"
#include "pay_intent_result.h"
#include "pay_json.h"


typedef struct {
    char                 *out;
    size_t                size;
    size_t                len;      /* the whole length, written or not */
    const unsigned char  *expect;   /* compared instead of written */
    size_t                expect_len;
    unsigned              differs:1;
} pay_result_out_t;


static int pay_result_write(const pay_intent_result_t *result,
    pay_result_out_t *o);
static void pay_result_raw(pay_result_out_t *o, const char *s, size_t len);
static int pay_result_amount(const pay_json_member_t *m, long long *amount);
static int pay_result_currency(const char *currency);
static int pay_result_member(pay_result_out_t *o, const char *name,
    const char *value, int comma);


int
pay_intent_visible_copy(const char *s, size_t len, char *dst, size_t max)
{
    size_t  i;

    if (len == 0 || len > max) {
        dst[0] = '\0';
        return -1;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x21 || (unsigned char) s[i] > 0x7e) {
            dst[0] = '\0';
            return -1;
        }
    }

    memmove(dst, s, len);
    dst[len] = '\0';

    return 0;
}


const char *
pay_intent_link_name(pay_intent_link_e link)
{
    switch (link) {

    case PAY_INTENT_CLIENT_SECRET:
        return "client_secret";

    case PAY_INTENT_APPROVE_URL:
        return "approve_url";

    case PAY_INTENT_PAYMENT_LINK_URL:
        return "payment_link_url";

    default:
        return NULL;
    }
}


/*
 * Written by hand, not by jansson: it runs for every new intent, twice
 * (the size, then the bytes).  The same bytes as jansson's JSON_COMPACT
 * dump for values of visible ASCII, the only ones a result holds
 * (pay_intent_visible_copy()); any other byte fails.
 */

size_t
pay_intent_result_json(const pay_intent_result_t *result, char *out,
    size_t size)
{
    pay_result_out_t  o;

    if (result == NULL) {
        return 0;
    }

    o.out = out;
    o.size = size;
    o.len = 0;
    o.expect = NULL;
    o.expect_len = 0;
    o.differs = 0;

    return (pay_result_write(result, &o) == 0) ? o.len : 0;
}


static int
pay_result_write(const pay_intent_result_t *result, pay_result_out_t *o)
{
    int          n;
    char         amount[24];
    const char  *provider, *link;

    provider = pay_intent_provider_name(result->provider);
    if (provider == NULL || !pay_result_currency(result->currency)
        || result->amount <= 0 || result->id[0] == '\0'
        || result->status[0] == '\0')
    {
        return -1;
    }

    link = pay_intent_link_name(result->link);
    if (link != NULL && result->link_value[0] == '\0') {
        return -1;
    }

    pay_result_raw(o, "{", 1);

    if (pay_result_member(o, "provider", provider, 0) != 0
        || pay_result_member(o, "id", result->id, 1) != 0
        || pay_result_member(o, "status", result->status, 1) != 0
        || (link != NULL
            && pay_result_member(o, link, result->link_value, 1) != 0))
    {
        return -1;
    }

    n = snprintf(amount, sizeof(amount), "%lld", result->amount);
    if (n <= 0 || (size_t) n >= sizeof(amount)) {
        return -1;
    }

    pay_result_raw(o, ",\"amount\":", 10);
    pay_result_raw(o, amount, (size_t) n);

    if (pay_result_member(o, "currency", result->currency, 1) != 0) {
        return -1;
    }

    pay_result_raw(o, "}", 1);

    return 0;
}


/*
 * ,"name":"value" (no comma first when comma is 0); name is ours, value
 * visible ASCII with " and \ escaped as jansson escapes them.  -1 for
 * any other byte: what is written must read back (pay_result_write()
 * refuses empty values, an amount under 1 and a currency
 * pay_intent_result_parse() would not take, for the same reason).
 */

static int
pay_result_member(pay_result_out_t *o, const char *name, const char *value,
    int comma)
{
    size_t  i, run;

    pay_result_raw(o, comma ? ",\"" : "\"", comma ? 2 : 1);
    pay_result_raw(o, name, strlen(name));
    pay_result_raw(o, "\":\"", 3);

    for (i = 0, run = 0; value[i] != '\0'; i++) {

        if ((unsigned char) value[i] < 0x21
            || (unsigned char) value[i] > 0x7e)
        {
            return -1;
        }

        if (value[i] == '"' || value[i] == '\\') {
            pay_result_raw(o, &value[i - run], run);
            pay_result_raw(o, "\\", 1);
            run = 0;
        }

        run++;
    }

    pay_result_raw(o, &value[i - run], run);
    pay_result_raw(o, "\"", 1);

    return 0;
}


/*
 * Scanned (pay_json.h), then written again: a record is taken only when
 * its bytes are exactly what pay_intent_result_json() writes for what was
 * read, since they are handed on as they are ($pay_intent_json, the
 * replayed answer): no whitespace, escape, order or member of anyone
 * else's making gets through.  A record rewritten in that very form (a
 * link to another site, say) cannot be told from the module's own: the
 * store is trusted with what it holds (docs/operations.md).
 */

int
pay_intent_result_parse(const unsigned char *json, size_t len,
    pay_intent_result_t *result)
{
    char               name[16];
    size_t             i, n;
    pay_result_out_t   o;
    pay_json_member_t  m[8];
    static const char *names[] = {
        "provider", "id", "status", "amount", "currency",
        "client_secret", "approve_url", "payment_link_url"
    };
    static const pay_intent_link_e  links[] = {
        PAY_INTENT_CLIENT_SECRET, PAY_INTENT_APPROVE_URL,
        PAY_INTENT_PAYMENT_LINK_URL
    };

    memset(result, 0, sizeof(pay_intent_result_t));

    for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        m[i].name = names[i];
    }

    if (pay_json_scan_object(json, len, m, sizeof(m) / sizeof(m[0])) != 0
        || m[0].type != PAY_JSON_STRING
        || pay_json_string_ascii(m[0].value, m[0].len, name, sizeof(name),
                                 &n)
           != 0)
    {
        goto failed;
    }

    result->provider = pay_intent_provider(name, n);

    if (result->provider == PAY_PROVIDER_NONE
        || pay_intent_scanned_copy(&m[1], result->id,
                                   PAY_INTENT_RESULT_ID_MAX)
           != 0
        || pay_intent_scanned_copy(&m[2], result->status,
                                   PAY_INTENT_RESULT_STATUS_MAX)
           != 0
        || pay_result_amount(&m[3], &result->amount) != 0
        || pay_intent_scanned_copy(&m[4], result->currency, 3) != 0
        || !pay_result_currency(result->currency))
    {
        goto failed;
    }

    /* at most one link: the writer would not write a second */

    for (i = 0; i < 3; i++) {
        if (m[5 + i].type == PAY_JSON_ABSENT) {
            continue;
        }

        if (result->link != PAY_INTENT_LINK_NONE
            || pay_intent_scanned_copy(&m[5 + i], result->link_value,
                                       PAY_INTENT_RESULT_LINK_MAX)
               != 0)
        {
            goto failed;
        }

        result->link = links[i];
    }

    o.out = NULL;
    o.size = 0;
    o.len = 0;
    o.expect = json;
    o.expect_len = len;
    o.differs = 0;

    if (pay_result_write(result, &o) != 0 || o.differs || o.len != len) {
        goto failed;
    }

    return 0;

failed:

    memset(result, 0, sizeof(pay_intent_result_t));

    return -1;
}


int
pay_intent_scanned_copy(const pay_json_member_t *m, char *dst, size_t max)
{
    size_t  len;

    if (m->type != PAY_JSON_STRING
        || pay_json_string_ascii(m->value, m->len, dst, max + 1, &len) != 0)
    {
        dst[0] = '\0';
        return -1;
    }

    return pay_intent_visible_copy(dst, len, dst, max);
}


/* a positive integer as the writer writes it: digits, no sign, no 0 first */

static int
pay_result_amount(const pay_json_member_t *m, long long *amount)
{
    size_t     i;
    long long  v;

    if (m->type != PAY_JSON_NUMBER || m->len == 0 || m->value[0] == '0') {
        return -1;
    }

    for (i = 0, v = 0; i < m->len; i++) {
        if (m->value[i] < '0' || m->value[i] > '9'
            || v > (LLONG_MAX - (m->value[i] - '0')) / 10)
        {
            return -1;
        }

        v = v * 10 + (m->value[i] - '0');
    }

    *amount = v;

    return 0;
}


static void
pay_result_raw(pay_result_out_t *o, const char *s, size_t len)
{
    if (o->expect != NULL) {
        if (o->len + len > o->expect_len
            || memcmp(o->expect + o->len, s, len) != 0)
        {
            o->differs = 1;
        }

    } else if (o->out != NULL && o->len + len <= o->size) {
        memcpy(o->out + o->len, s, len);
    }

    o->len += len;
}


/* three lowercase letters of an ISO 4217 currency with a minor unit */

static int
pay_result_currency(const char *currency)
{
    size_t  i;

    for (i = 0; i < 3; i++) {
        if (currency[i] < 'a' || currency[i] > 'z') {
            return 0;
        }
    }

    return currency[3] == '\0' && pay_currency_exponent(currency, 3) >= 0;
}
