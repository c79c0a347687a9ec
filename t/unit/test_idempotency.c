/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_idempotency.c: Idempotency-Key syntax, the derived
 * hashes (vectors computed independently with Python's hashlib), and the
 * stored record.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pay_idempotency.h"


#define STORE_KEY                                                             \
    "9a2b9472c6d29841a8b0cfff03285db6b8523ec5dd5f63b9825d1ba65414af2c"
#define FP_EMPTY                                                              \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define FP_ABC                                                                \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define FP_SERVER_CUSTOMER                                                    \
    "13c242dc693c2f8bba86be62381cad5fbd4a147455b3ade0703f18224c63aa99"


static char    key[PAY_IDEMPOTENCY_KEY_MAX + 1];
static size_t  key_len;


static pay_rc_e key_parse(const char *v);
static char *repeat(char c, size_t n, const char *before, const char *after);
static void sample_record(pay_idempotency_record_t *rec,
    pay_idempotency_state_e state);
static size_t encode(const pay_idempotency_record_t *rec,
    unsigned char **out);


static pay_rc_e
key_parse(const char *v)
{
    memset(key, 'x', sizeof(key));
    key_len = 9999;

    return pay_idempotency_key_parse(v, strlen(v), key, sizeof(key),
                                     &key_len);
}


static char *
repeat(char c, size_t n, const char *before, const char *after)
{
    char    *s;
    size_t   b, a;

    b = strlen(before);
    a = strlen(after);

    s = malloc(b + n + a + 1);
    assert_non_null(s);

    memcpy(s, before, b);
    memset(s + b, c, n);
    memcpy(s + b + n, after, a + 1);

    return s;
}


static void
test_key_bare(void **state)
{
    (void) state;

    assert_int_equal(key_parse("order-6735"), PAY_OK);
    assert_string_equal(key, "order-6735");
    assert_int_equal(key_len, 10);

    assert_int_equal(key_parse(" \t8e03978e-40d5-43e8-bc93-6894a57f9324 "),
                     PAY_OK);
    assert_string_equal(key, "8e03978e-40d5-43e8-bc93-6894a57f9324");

    /* spaces inside are fine; other printable bytes too */
    assert_int_equal(key_parse("a b"), PAY_OK);
    assert_string_equal(key, "a b");

    assert_int_equal(key_parse("a\"b\\c"), PAY_OK);
    assert_string_equal(key, "a\"b\\c");

    assert_int_equal(key_parse("!~"), PAY_OK);
    assert_int_equal(key_parse("x"), PAY_OK);
    assert_int_equal(key_len, 1);
}


static void
test_key_sf_string(void **state)
{
    (void) state;

    assert_int_equal(key_parse("\"abc\""), PAY_OK);
    assert_string_equal(key, "abc");
    assert_int_equal(key_len, 3);

    assert_int_equal(key_parse("\"a\\\"b\\\\c\""), PAY_OK);
    assert_string_equal(key, "a\"b\\c");
    assert_int_equal(key_len, 5);

    assert_int_equal(key_parse("  \"with space\"\t"), PAY_OK);
    assert_string_equal(key, "with space");

    /* the quoted and bare forms are the same key */
    assert_int_equal(key_parse("\"order-6735\""), PAY_OK);
    assert_string_equal(key, "order-6735");
}


static void
test_key_sf_string_bad(void **state)
{
    size_t             i;
    static const char  *bad[] = {
        "\"\"", "\"abc", "\"ab\"c", "\"ab\" \"c\"", "\"a\\nb\"", "\"a\\\"",
        "\"a\\\\\\\"", "\"\\u0041\"", "\" a\"", "\"a \"", "\"   \"",
        "\"a\tb\"", "\"\\\""
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(key_parse(bad[i]), PAY_ERR_VALIDATION_FAILED);
    }

    assert_int_equal(key_parse("\"caf\xc3\xa9\""), PAY_ERR_VALIDATION_FAILED);
}


static void
test_key_missing(void **state)
{
    (void) state;

    assert_int_equal(key_parse(""), PAY_ERR_IDEMPOTENCY_KEY_MISSING);
    assert_int_equal(key_parse("   "), PAY_ERR_IDEMPOTENCY_KEY_MISSING);
    assert_int_equal(key_parse("\t \t"), PAY_ERR_IDEMPOTENCY_KEY_MISSING);
    assert_int_equal(pay_idempotency_key_parse(NULL, 0, key, sizeof(key),
                                               &key_len),
                     PAY_ERR_IDEMPOTENCY_KEY_MISSING);
}


static void
test_key_bytes(void **state)
{
    (void) state;

    assert_int_equal(key_parse("a\x01" "b"), PAY_ERR_VALIDATION_FAILED);
    assert_int_equal(key_parse("a\x7f"), PAY_ERR_VALIDATION_FAILED);
    assert_int_equal(key_parse("caf\xc3\xa9"), PAY_ERR_VALIDATION_FAILED);
    assert_int_equal(key_parse("a\r\nb"), PAY_ERR_VALIDATION_FAILED);
    assert_int_equal(key_parse("a\tb"), PAY_ERR_VALIDATION_FAILED);

    assert_int_equal(pay_idempotency_key_parse("a\0b", 3, key, sizeof(key),
                                               &key_len),
                     PAY_ERR_VALIDATION_FAILED);
}


static void
test_key_length(void **state)
{
    char  *s;

    (void) state;

    s = repeat('k', 255, "", "");
    assert_int_equal(key_parse(s), PAY_OK);
    assert_int_equal(key_len, 255);
    free(s);

    s = repeat('k', 256, "", "");
    assert_int_equal(key_parse(s), PAY_ERR_VALIDATION_FAILED);
    free(s);

    /* the limit applies to the unquoted key */

    s = repeat('k', 255, "\"", "\"");
    assert_int_equal(key_parse(s), PAY_OK);
    assert_int_equal(key_len, 255);
    free(s);

    s = repeat('k', 254, "\"\\\\", "\"");
    assert_int_equal(key_parse(s), PAY_OK);
    assert_int_equal(key_len, 255);
    assert_int_equal(key[0], '\\');
    free(s);

    s = repeat('k', 256, "\"", "\"");
    assert_int_equal(key_parse(s), PAY_ERR_VALIDATION_FAILED);
    free(s);

    /* surrounding whitespace does not count */
    s = repeat('k', 255, "   ", "\t\t");
    assert_int_equal(key_parse(s), PAY_OK);
    free(s);
}


static void
test_key_small_buffer(void **state)
{
    char    out[4];
    size_t  len;

    (void) state;

    assert_int_equal(pay_idempotency_key_parse("abc", 3, out, sizeof(out),
                                               &len),
                     PAY_OK);
    assert_string_equal(out, "abc");

    assert_int_equal(pay_idempotency_key_parse("abcd", 4, out, sizeof(out),
                                               &len),
                     PAY_ERR_INTERNAL);
    assert_int_equal(pay_idempotency_key_parse("\"abcd\"", 6, out,
                                               sizeof(out), &len),
                     PAY_ERR_INTERNAL);
    assert_int_equal(pay_idempotency_key_parse("abc", 3, NULL, 0, &len),
                     PAY_ERR_INTERNAL);
}


static void
test_store_key(void **state)
{
    char  a[PAY_IDEMPOTENCY_HASH_LEN + 1], b[PAY_IDEMPOTENCY_HASH_LEN + 1];

    (void) state;

    assert_int_equal(pay_idempotency_store_key("shop.example.com", 16,
                                               "Bearer sk_client_1", 18,
                                               "/api/pay/intents", 16,
                                               "order-6735", 10, a),
                     0);
    assert_string_equal(a, STORE_KEY);

    assert_int_equal(pay_idempotency_store_key(NULL, 0, NULL, 0, NULL, 0,
                                               "k", 1, b),
                     0);
    assert_string_equal(b, "4451360a00f035ab019e0e80216b5984"
                           "4246f5177c0fedd034890d0a41465e22");

    /* the length prefixes keep the parts apart */

    assert_int_equal(pay_idempotency_store_key("s", 1, "ab", 2, "c", 1, "d",
                                               1, a),
                     0);
    assert_int_equal(pay_idempotency_store_key("s", 1, "a", 1, "bc", 1 + 1,
                                               "d", 1, b),
                     0);
    assert_string_not_equal(a, b);

    assert_int_equal(pay_idempotency_store_key("s", 1, "a", 1, "", 0, "bc",
                                               2, b),
                     0);
    assert_string_not_equal(a, b);

    assert_int_equal(pay_idempotency_store_key("sa", 2, "b", 1, "c", 1, "d",
                                               1, a),
                     0);
    assert_int_equal(pay_idempotency_store_key("s", 1, "ab", 2, "c", 1, "d",
                                               1, b),
                     0);
    assert_string_not_equal(a, b);

    /* scope matters: keys are per client */
    assert_int_equal(pay_idempotency_store_key("s", 1, "client-1", 8, "/i",
                                               2, "k", 1, a),
                     0);
    assert_int_equal(pay_idempotency_store_key("s", 1, "client-2", 8, "/i",
                                               2, "k", 1, b),
                     0);
    assert_string_not_equal(a, b);

    /* and so does the server: one path and key in two server{} blocks */
    assert_int_equal(pay_idempotency_store_key("shop-a.test", 11, "c", 1,
                                               "/i", 2, "k", 1, a),
                     0);
    assert_int_equal(pay_idempotency_store_key("shop-b.test", 11, "c", 1,
                                               "/i", 2, "k", 1, b),
                     0);
    assert_string_not_equal(a, b);

    assert_int_equal(pay_idempotency_store_key(NULL, 0, NULL, 1, "/i", 2,
                                               "k", 1, a),
                     -1);
    assert_int_equal(pay_idempotency_store_key(NULL, 1, NULL, 0, "/i", 2,
                                               "k", 1, a),
                     -1);
}


static void
test_fingerprint(void **state)
{
    char  fp[PAY_IDEMPOTENCY_HASH_LEN + 1];

    (void) state;

    assert_int_equal(pay_idempotency_fingerprint(NULL, 0, fp), 0);
    assert_string_equal(fp, FP_EMPTY);

    assert_int_equal(pay_idempotency_fingerprint((unsigned char *) "abc", 3,
                                                 fp),
                     0);
    assert_string_equal(fp, FP_ABC);

    /* the raw bytes: whitespace is a different body */
    assert_int_equal(pay_idempotency_fingerprint((unsigned char *) "abc ", 4,
                                                 fp),
                     0);
    assert_string_not_equal(fp, FP_ABC);
}


/* a request completed by the server: its values are in the fingerprint */

static void
test_fingerprint_parts(void **state)
{
    char                    a[PAY_IDEMPOTENCY_HASH_LEN + 1];
    char                    b[PAY_IDEMPOTENCY_HASH_LEN + 1];
    const char             *body;
    pay_idempotency_part_t  parts[4];

    (void) state;

    body = "{\"amount\":2000,\"currency\":\"usd\"}";

    /* none: the body's own fingerprint */
    assert_int_equal(pay_idempotency_fingerprint_parts((unsigned char *)
                                                       "abc", 3, NULL, 0,
                                                       a),
                     0);
    assert_string_equal(a, FP_ABC);

    parts[0].data = "customer";
    parts[0].len = 8;
    parts[1].data = "cus_1";
    parts[1].len = 5;

    assert_int_equal(pay_idempotency_fingerprint_parts((unsigned char *) body,
                                                       strlen(body), parts,
                                                       2, a),
                     0);
    assert_string_equal(a, FP_SERVER_CUSTOMER);

    /* another server value, the same body: another fingerprint */
    parts[1].data = "cus_2";

    assert_int_equal(pay_idempotency_fingerprint_parts((unsigned char *) body,
                                                       strlen(body), parts,
                                                       2, b),
                     0);
    assert_string_not_equal(a, b);

    /* as many as pay_intent_set can set: 5 members, 50 metadata keys */
    {
        size_t                  i;
        pay_idempotency_part_t  many[110];

        for (i = 0; i < 110; i++) {
            many[i].data = (i % 2) ? "value" : "metadata.k";
            many[i].len = (i % 2) ? 5 : 10;
        }

        assert_int_equal(pay_idempotency_fingerprint_parts(
                             (unsigned char *) body, strlen(body), many, 110,
                             b),
                         0);
        assert_string_not_equal(a, b);
    }

    /* an empty server value is not the same as none */
    parts[1].len = 0;

    assert_int_equal(pay_idempotency_fingerprint_parts((unsigned char *) body,
                                                       strlen(body), parts,
                                                       2, b),
                     0);
    assert_string_not_equal(b, a);

    assert_int_equal(pay_idempotency_fingerprint((unsigned char *) body,
                                                 strlen(body), a),
                     0);
    assert_string_not_equal(b, a);

    /* the length prefixes keep name and value apart */
    parts[0].data = "custome";
    parts[0].len = 7;
    parts[1].data = "rcus_1";
    parts[1].len = 6;

    assert_int_equal(pay_idempotency_fingerprint_parts((unsigned char *) body,
                                                       strlen(body), parts,
                                                       2, b),
                     0);
    assert_string_not_equal(b, FP_SERVER_CUSTOMER);

    parts[0].data = NULL;
    parts[0].len = 1;

    assert_int_equal(pay_idempotency_fingerprint_parts((unsigned char *) body,
                                                       strlen(body), parts,
                                                       2, b),
                     -1);
    assert_int_equal(pay_idempotency_fingerprint_parts((unsigned char *) body,
                                                       strlen(body), NULL, 2,
                                                       b),
                     -1);
}


static void
test_provider_key(void **state)
{
    size_t  i;
    char    k[PAY_IDEMPOTENCY_PROVIDER_KEY_LEN + 1];
    char    again[PAY_IDEMPOTENCY_PROVIDER_KEY_LEN + 1];

    (void) state;

    assert_int_equal(pay_idempotency_provider_key(STORE_KEY,
                                                  PAY_PROVIDER_STRIPE, k),
                     0);
    assert_string_equal(k, "ngxpay-0f8ec000dee36749eacdbc9254823e9b");

    assert_int_equal(pay_idempotency_provider_key(STORE_KEY,
                                                  PAY_PROVIDER_SQUARE, k),
                     0);
    assert_string_equal(k, "ngxpay-600e7ddbc1fbb88aec327b3543d6fd2c");

    assert_int_equal(pay_idempotency_provider_key(STORE_KEY,
                                                  PAY_PROVIDER_PAYPAL, k),
                     0);
    assert_string_equal(k, "ngxpay-3014dec0b71bddab4e284a81a1340122");

    /* fits the smallest limit, Square CreatePayment's 45, in [a-z0-9-] */

    assert_int_equal(strlen(k), PAY_IDEMPOTENCY_PROVIDER_KEY_LEN);
    assert_true(PAY_IDEMPOTENCY_PROVIDER_KEY_LEN <= 45);

    for (i = 0; k[i] != '\0'; i++) {
        assert_true((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0'
                    && k[i] <= '9') || k[i] == '-');
    }

    /* deterministic */
    assert_int_equal(pay_idempotency_provider_key(STORE_KEY,
                                                  PAY_PROVIDER_PAYPAL,
                                                  again),
                     0);
    assert_string_equal(k, again);

    /* another store key, another provider key */
    assert_int_equal(pay_idempotency_provider_key(FP_ABC, PAY_PROVIDER_PAYPAL,
                                                  again),
                     0);
    assert_string_not_equal(k, again);

    assert_int_equal(pay_idempotency_provider_key(NULL, PAY_PROVIDER_STRIPE,
                                                  k),
                     -1);
}


static void
sample_record(pay_idempotency_record_t *rec, pay_idempotency_state_e state)
{
    static const char  intent[] =
        "{\"provider\":\"stripe\",\"id\":\"pi_1\",\"status\":"
        "\"requires_payment_method\",\"client_secret\":\"pi_1_secret_x\","
        "\"amount\":2000,\"currency\":\"usd\"}";
    static const char  body[] = "{\"ok\":true,\"order\":6735}\n";
    static const char  type[] = "application/json; charset=utf-8";

    memset(rec, 0, sizeof(pay_idempotency_record_t));

    rec->state = state;
    memcpy(rec->fingerprint, FP_ABC, sizeof(FP_ABC));
    rec->intent = (const unsigned char *) intent;
    rec->intent_len = sizeof(intent) - 1;

    if (state == PAY_IDEMPOTENCY_COMPLETED) {
        rec->status = 201;
        rec->content_type = type;
        rec->content_type_len = sizeof(type) - 1;
        rec->body = (const unsigned char *) body;
        rec->body_len = sizeof(body) - 1;
    }
}


static size_t
encode(const pay_idempotency_record_t *rec, unsigned char **out)
{
    size_t  size;

    size = pay_idempotency_record_size(rec);
    assert_true(size > 0);

    *out = malloc(size);
    assert_non_null(*out);

    assert_int_equal(pay_idempotency_record_encode(rec, *out, size - 1), 0);
    assert_int_equal(pay_idempotency_record_encode(rec, *out, size), size);

    return size;
}


static void
test_record_round_trip(void **state)
{
    size_t                    len;
    unsigned char            *v;
    pay_idempotency_record_t  rec, dec;

    (void) state;

    sample_record(&rec, PAY_IDEMPOTENCY_COMPLETED);
    len = encode(&rec, &v);

    assert_int_equal(len, 80 + rec.intent_len + rec.content_type_len
                          + rec.body_len);
    assert_memory_equal(v, "PI\1D", 4);

    assert_int_equal(pay_idempotency_record_decode(v, len, &dec), 0);
    assert_int_equal(dec.state, PAY_IDEMPOTENCY_COMPLETED);
    assert_string_equal(dec.fingerprint, FP_ABC);
    assert_int_equal(dec.status, 201);
    assert_int_equal(dec.intent_len, rec.intent_len);
    assert_memory_equal(dec.intent, rec.intent, rec.intent_len);
    assert_int_equal(dec.content_type_len, rec.content_type_len);
    assert_memory_equal(dec.content_type, rec.content_type,
                        rec.content_type_len);
    assert_int_equal(dec.body_len, rec.body_len);
    assert_memory_equal(dec.body, rec.body, rec.body_len);

    /* pointers into the value */
    assert_true(dec.body >= v && dec.body + dec.body_len == v + len);

    free(v);

    sample_record(&rec, PAY_IDEMPOTENCY_CREATED);
    len = encode(&rec, &v);
    assert_memory_equal(v, "PI\1C", 4);

    assert_int_equal(pay_idempotency_record_decode(v, len, &dec), 0);
    assert_int_equal(dec.state, PAY_IDEMPOTENCY_CREATED);
    assert_int_equal(dec.status, 0);
    assert_null(dec.content_type);
    assert_null(dec.body);
    assert_int_equal(dec.body_len, 0);
    assert_memory_equal(dec.intent, rec.intent, rec.intent_len);

    free(v);

    /* a saved error with no intent (a provider's refusal) */

    sample_record(&rec, PAY_IDEMPOTENCY_COMPLETED);
    rec.intent = NULL;
    rec.intent_len = 0;
    rec.status = 402;
    len = encode(&rec, &v);

    assert_int_equal(pay_idempotency_record_decode(v, len, &dec), 0);
    assert_int_equal(dec.status, 402);
    assert_null(dec.intent);

    free(v);
}


static void
test_record_invalid_input(void **state)
{
    unsigned char             out[256];
    pay_idempotency_record_t  rec;

    (void) state;

    sample_record(&rec, PAY_IDEMPOTENCY_CREATED);
    rec.status = 201;
    assert_int_equal(pay_idempotency_record_size(&rec), 0);

    sample_record(&rec, PAY_IDEMPOTENCY_CREATED);
    rec.intent_len = 0;
    assert_int_equal(pay_idempotency_record_size(&rec), 0);

    sample_record(&rec, PAY_IDEMPOTENCY_COMPLETED);
    rec.status = 99;
    assert_int_equal(pay_idempotency_record_size(&rec), 0);
    rec.status = 600;
    assert_int_equal(pay_idempotency_record_size(&rec), 0);

    sample_record(&rec, PAY_IDEMPOTENCY_COMPLETED);
    rec.content_type = "text/html\r\nX-Injected: 1";
    rec.content_type_len = strlen(rec.content_type);
    assert_int_equal(pay_idempotency_record_size(&rec), 0);

    sample_record(&rec, PAY_IDEMPOTENCY_COMPLETED);
    rec.fingerprint[0] = 'B';
    assert_int_equal(pay_idempotency_record_size(&rec), 0);

    sample_record(&rec, PAY_IDEMPOTENCY_COMPLETED);
    rec.state = (pay_idempotency_state_e) 7;
    assert_int_equal(pay_idempotency_record_size(&rec), 0);
    assert_int_equal(pay_idempotency_record_encode(&rec, out, sizeof(out)),
                     0);

    sample_record(&rec, PAY_IDEMPOTENCY_COMPLETED);
    rec.body = NULL;
    assert_int_equal(pay_idempotency_record_size(&rec), 0);

    assert_int_equal(pay_idempotency_record_size(NULL), 0);
}


static void
test_record_size_limit(void **state)
{
    unsigned char            *big;
    pay_idempotency_record_t  rec;

    (void) state;

    big = calloc(1, PAY_IDEMPOTENCY_RECORD_MAX);
    assert_non_null(big);

    sample_record(&rec, PAY_IDEMPOTENCY_COMPLETED);
    rec.body = big;
    rec.body_len = PAY_IDEMPOTENCY_RECORD_MAX - 80 - rec.intent_len
                   - rec.content_type_len;
    assert_int_equal(pay_idempotency_record_size(&rec),
                     PAY_IDEMPOTENCY_RECORD_MAX);

    rec.body_len++;
    assert_int_equal(pay_idempotency_record_size(&rec), 0);

    free(big);
}


static void
test_record_garbage(void **state)
{
    size_t                    len, i;
    unsigned char            *v, *copy;
    pay_idempotency_record_t  rec, dec;

    (void) state;

    assert_int_equal(pay_idempotency_record_decode(NULL, 0, &dec), -1);
    assert_int_equal(pay_idempotency_record_decode((unsigned char *) "", 0,
                                                   &dec),
                     -1);
    assert_int_equal(pay_idempotency_record_decode((unsigned char *) "D{}",
                                                   3, &dec),
                     -1);
    assert_int_equal(pay_idempotency_record_decode((unsigned char *)
                                                   "Ptoken1234", 10, &dec),
                     -1);

    sample_record(&rec, PAY_IDEMPOTENCY_COMPLETED);
    len = encode(&rec, &v);

    copy = malloc(len + 1);
    assert_non_null(copy);

    /* every truncation, and one byte too many */

    for (i = 0; i < len; i++) {
        memcpy(copy, v, i);
        assert_int_equal(pay_idempotency_record_decode(copy, i, &dec), -1);
    }

    memcpy(copy, v, len);
    copy[len] = 'x';
    assert_int_equal(pay_idempotency_record_decode(copy, len + 1, &dec), -1);

    /* magic, version, state */

    for (i = 0; i < 4; i++) {
        memcpy(copy, v, len);
        copy[i] ^= 0x20;
        assert_int_equal(pay_idempotency_record_decode(copy, len, &dec), -1);
    }

    /* a fingerprint that is not lowercase hex */
    memcpy(copy, v, len);
    copy[4] = 'g';
    assert_int_equal(pay_idempotency_record_decode(copy, len, &dec), -1);

    /* status 0 and 600 for a completed record */
    memcpy(copy, v, len);
    copy[68] = 0;
    copy[69] = 0;
    assert_int_equal(pay_idempotency_record_decode(copy, len, &dec), -1);
    copy[68] = 600 >> 8;
    copy[69] = 600 & 0xff;
    assert_int_equal(pay_idempotency_record_decode(copy, len, &dec), -1);

    /* a 1xx or a 5xx was never saved: refused; 200 and 499 read back */
    copy[68] = 0;
    copy[69] = 100;
    assert_int_equal(pay_idempotency_record_decode(copy, len, &dec), -1);
    copy[69] = 199;
    assert_int_equal(pay_idempotency_record_decode(copy, len, &dec), -1);
    copy[68] = 500 >> 8;
    copy[69] = 500 & 0xff;
    assert_int_equal(pay_idempotency_record_decode(copy, len, &dec), -1);
    copy[68] = 599 >> 8;
    copy[69] = 599 & 0xff;
    assert_int_equal(pay_idempotency_record_decode(copy, len, &dec), -1);
    copy[68] = 0;
    copy[69] = 200;
    assert_int_equal(pay_idempotency_record_decode(copy, len, &dec), 0);
    assert_int_equal(dec.status, 200);
    copy[68] = 499 >> 8;
    copy[69] = 499 & 0xff;
    assert_int_equal(pay_idempotency_record_decode(copy, len, &dec), 0);
    assert_int_equal(dec.status, 499);

    /* lengths that do not add up, one huge */

    for (i = 70; i < 80; i++) {
        memcpy(copy, v, len);
        copy[i] ^= 0x80;
        assert_int_equal(pay_idempotency_record_decode(copy, len, &dec), -1);
    }

    /* a control byte in the content type */
    memcpy(copy, v, len);
    copy[80 + rec.intent_len] = '\n';
    assert_int_equal(pay_idempotency_record_decode(copy, len, &dec), -1);

    /* any byte of the intent or body may change: they are opaque */
    memcpy(copy, v, len);
    copy[len - 1] = 0;
    assert_int_equal(pay_idempotency_record_decode(copy, len, &dec), 0);

    free(copy);
    free(v);
}


static void
test_record_random(void **state)
{
    size_t                    i, len;
    unsigned char             buf[512];
    unsigned int              seed;
    pay_idempotency_record_t  dec;

    (void) state;

    /* a deterministic LCG: never crashes, never reads past len (ASan) */

    seed = 12345;

    for (i = 0; i < 20000; i++) {
        for (len = 0; len < sizeof(buf); len++) {
            seed = seed * 1103515245u + 12345u;
            buf[len] = (unsigned char) (seed >> 16);
        }

        len = (seed >> 8) % sizeof(buf);

        if (i % 2) {
            memcpy(buf, "PI\1D", 4);
        }

        (void) pay_idempotency_record_decode(buf, len, &dec);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_key_bare),
        cmocka_unit_test(test_key_sf_string),
        cmocka_unit_test(test_key_sf_string_bad),
        cmocka_unit_test(test_key_missing),
        cmocka_unit_test(test_key_bytes),
        cmocka_unit_test(test_key_length),
        cmocka_unit_test(test_key_small_buffer),
        cmocka_unit_test(test_store_key),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_fingerprint_parts),
        cmocka_unit_test(test_provider_key),
        cmocka_unit_test(test_record_round_trip),
        cmocka_unit_test(test_record_invalid_input),
        cmocka_unit_test(test_record_size_limit),
        cmocka_unit_test(test_record_garbage),
        cmocka_unit_test(test_record_random),
    };

    return cmocka_run_group_tests_name("pay_idempotency", tests, NULL, NULL);
}
