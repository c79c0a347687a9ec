/*
 * Copyright (C) ngx_pay authors
 *
 * The normalized result of an intent as the JSON the client is sent and
 * the store keeps, written and read back.  Pure C (jansson reads it).
 */


#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "pay_currency.h"
#include "pay_intent_result.h"


typedef struct {
    char    *out;
    size_t   size;
    size_t   len;       /* the whole length, written or not */
} pay_result_out_t;


static void pay_result_raw(pay_result_out_t *o, const char *s, size_t len);
static int pay_result_member(pay_result_out_t *o, const char *name,
    const char *value, int comma);


int
pay_copy_ascii(json_t *value, char *dst, size_t max)
{
    dst[0] = '\0';

    if (!json_is_string(value)) {
        return -1;
    }

    return pay_intent_visible_copy(json_string_value(value),
                                   json_string_length(value), dst, max);
}


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
 * dump for values of printable ASCII, the only ones a result holds
 * (pay_intent_visible_copy()); a control or non-ASCII byte fails.
 */

size_t
pay_intent_result_json(const pay_intent_result_t *result, char *out,
    size_t size)
{
    char              amount[24];
    const char       *provider, *link;
    pay_result_out_t  o;

    if (result == NULL) {
        return 0;
    }

    provider = pay_intent_provider_name(result->provider);
    if (provider == NULL) {
        return 0;
    }

    o.out = out;
    o.size = size;
    o.len = 0;

    link = pay_intent_link_name(result->link);

    pay_result_raw(&o, "{", 1);

    if (pay_result_member(&o, "provider", provider, 0) != 0
        || pay_result_member(&o, "id", result->id, 1) != 0
        || pay_result_member(&o, "status", result->status, 1) != 0
        || (link != NULL
            && pay_result_member(&o, link, result->link_value, 1) != 0))
    {
        return 0;
    }

    pay_result_raw(&o, ",\"amount\":", 10);
    pay_result_raw(&o, amount, (size_t) snprintf(amount, sizeof(amount),
                                                 "%lld", result->amount));

    if (pay_result_member(&o, "currency", result->currency, 1) != 0) {
        return 0;
    }

    pay_result_raw(&o, "}", 1);

    return o.len;
}


/*
 * ,"name":"value" (no comma first when comma is 0); name is ours, value
 * printable ASCII with " and \ escaped as jansson escapes them.  -1 for
 * any other byte.
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

        if ((unsigned char) value[i] < 0x20
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


int
pay_intent_result_parse(const unsigned char *json, size_t len,
    pay_intent_result_t *result)
{
    size_t        i, members;
    json_t       *root, *v;
    const char   *s, *name;
    json_int_t    amount;
    static const pay_intent_link_e  links[] = {
        PAY_INTENT_CLIENT_SECRET, PAY_INTENT_APPROVE_URL,
        PAY_INTENT_PAYMENT_LINK_URL
    };

    memset(result, 0, sizeof(pay_intent_result_t));

    root = json_loadb((const char *) json, len, JSON_REJECT_DUPLICATES, NULL);
    if (root == NULL) {
        return -1;
    }

    if (!json_is_object(root)) {
        goto failed;
    }

    s = json_string_value(json_object_get(root, "provider"));
    result->provider = (s == NULL) ? PAY_PROVIDER_NONE
                                   : pay_intent_provider(s, strlen(s));

    if (result->provider == PAY_PROVIDER_NONE) {
        goto failed;
    }

    /*
     * The values reach headers and the client as they did when fresh:
     * the same rules as pay_provider_normalize()'s, so a record altered
     * in the store cannot smuggle a CR or LF into either.
     */

    if (pay_copy_ascii(json_object_get(root, "id"), result->id,
                       PAY_INTENT_RESULT_ID_MAX)
        != 0
        || pay_copy_ascii(json_object_get(root, "status"), result->status,
                          PAY_INTENT_RESULT_STATUS_MAX)
           != 0)
    {
        goto failed;
    }

    /* provider, id, status, amount, currency */
    members = 5;

    for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        name = pay_intent_link_name(links[i]);
        v = json_object_get(root, name);

        if (v == NULL) {
            continue;
        }

        if (pay_copy_ascii(v, result->link_value, PAY_INTENT_RESULT_LINK_MAX)
            != 0)
        {
            goto failed;
        }

        result->link = links[i];
        members++;
        break;
    }

    /* nothing but what pay_intent_result_json() writes */
    if (json_object_size(root) != members) {
        goto failed;
    }

    v = json_object_get(root, "amount");
    if (!json_is_integer(v) || (amount = json_integer_value(v)) <= 0) {
        goto failed;
    }

    result->amount = (long long) amount;

    v = json_object_get(root, "currency");
    s = json_string_value(v);

    if (s == NULL || json_string_length(v) != 3
        || pay_currency_exponent(s, 3) < 0)
    {
        goto failed;
    }

    for (i = 0; i < 3; i++) {
        if (s[i] < 'a' || s[i] > 'z') {
            goto failed;
        }
    }

    memcpy(result->currency, s, 4);

    json_decref(root);

    return 0;

failed:

    json_decref(root);
    memset(result, 0, sizeof(pay_intent_result_t));

    return -1;
}


static void
pay_result_raw(pay_result_out_t *o, const char *s, size_t len)
{
    if (o->out != NULL && o->len + len <= o->size) {
        memcpy(o->out + o->len, s, len);
    }

    o->len += len;
}

