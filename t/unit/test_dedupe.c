/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_dedupe.c: namespaces, outcomes, and what a claim
 * becomes.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "pay_dedupe.h"


#define N(a)  (sizeof(a) / sizeof((a)[0]))


static size_t ns(const char *in, char out[PAY_DEDUPE_NAMESPACE_MAX + 1]);
static int is_hashed(const char *s, size_t len);


static size_t
ns(const char *in, char out[PAY_DEDUPE_NAMESPACE_MAX + 1])
{
    return pay_dedupe_namespace((const unsigned char *) in, strlen(in), out);
}


static int
is_hashed(const char *s, size_t len)
{
    size_t  i;

    if (len != PAY_DEDUPE_NAMESPACE_HASH_LEN || s[0] != '#') {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if (strchr("0123456789abcdef", s[i]) == NULL) {
            return 0;
        }
    }

    return s[len] == '\0';
}


static void
test_namespace_literal(void **state)
{
    size_t  n;
    char    out[PAY_DEDUPE_NAMESPACE_MAX + 1];

    (void) state;

    /* the defaults nginx makes: server_name, modifier, location */
    n = ns("localhost=/webhooks/stripe", out);
    assert_int_equal(n, strlen("localhost=/webhooks/stripe"));
    assert_string_equal(out, "localhost=/webhooks/stripe");

    assert_int_equal(ns("billing", out), 7);
    assert_string_equal(out, "billing");

    assert_int_equal(ns("pay.example.com^~/hooks/@named-_~*", out),
                     strlen("pay.example.com^~/hooks/@named-_~*"));
}


static void
test_namespace_length(void **state)
{
    size_t  n;
    char    in[PAY_DEDUPE_NAMESPACE_LITERAL_MAX + 2];
    char    out[PAY_DEDUPE_NAMESPACE_MAX + 1];

    (void) state;

    memset(in, 'a', sizeof(in) - 1);
    in[sizeof(in) - 1] = '\0';

    /* 64 bytes: as written */
    in[PAY_DEDUPE_NAMESPACE_LITERAL_MAX] = '\0';
    n = ns(in, out);
    assert_int_equal(n, PAY_DEDUPE_NAMESPACE_LITERAL_MAX);
    assert_string_equal(out, in);

    /* 65: hashed */
    in[PAY_DEDUPE_NAMESPACE_LITERAL_MAX] = 'a';
    n = ns(in, out);
    assert_true(is_hashed(out, n));
}


static void
test_namespace_hashed(void **state)
{
    size_t  i, n;
    char    out[PAY_DEDUPE_NAMESPACE_MAX + 1];

    static const char  *hashed[] = {
        "",                             /* empty */
        "a:b",                          /* the key's separator */
        "#0123",                        /* the hashed form's mark */
        "has space",
        "localhost~^/hooks/(\\w+)$",    /* a regex location */
        "caf\xc3\xa9",                  /* not ASCII */
    };

    (void) state;

    for (i = 0; i < N(hashed); i++) {
        n = ns(hashed[i], out);
        assert_true(is_hashed(out, n));
    }

    /* NUL inside */
    n = pay_dedupe_namespace((const unsigned char *) "a\0b", 3, out);
    assert_true(is_hashed(out, n));

    /* NULL with no length */
    n = pay_dedupe_namespace(NULL, 0, out);
    assert_true(is_hashed(out, n));
}


static void
test_namespace_stable(void **state)
{
    char  a[PAY_DEDUPE_NAMESPACE_MAX + 1], b[PAY_DEDUPE_NAMESPACE_MAX + 1];

    (void) state;

    /* the same input, the same namespace: every node, every restart */
    (void) ns("a:b", a);
    (void) ns("a:b", b);
    assert_string_equal(a, b);

    /* fixed: a change would orphan every stored record */
    assert_string_equal(a, "#b0bf379eb126d46666f8fa1670ff36bf");

    (void) ns("a:c", b);
    assert_string_not_equal(a, b);
}


static void
test_outcome_accepted(void **state)
{
    pay_dedupe_attempt_t  ok[] = { { 1, 1, 200 } };
    pay_dedupe_attempt_t  retried[] = { { 0, 0, 0 }, { 1, 1, 204 } };

    (void) state;

    assert_int_equal(pay_dedupe_outcome(200, ok, N(ok)), PAY_DEDUPE_ACCEPTED);
    assert_int_equal(pay_dedupe_outcome(204, retried, N(retried)),
                     PAY_DEDUPE_ACCEPTED);

    /* no upstream: the location answered itself */
    assert_int_equal(pay_dedupe_outcome(200, NULL, 0), PAY_DEDUPE_ACCEPTED);
}


static void
test_outcome_failed(void **state)
{
    pay_dedupe_attempt_t  app500[] = { { 1, 1, 500 } };
    pay_dedupe_attempt_t  refused[] = { { 0, 0, 502 } };
    pay_dedupe_attempt_t  app503[] = { { 1, 1, 503 } };

    (void) state;

    /* the app answered, and not 2xx */
    assert_int_equal(pay_dedupe_outcome(500, app500, N(app500)),
                     PAY_DEDUPE_FAILED);

    /* an error_page made it 200: the app still said 500 */
    assert_int_equal(pay_dedupe_outcome(200, app500, N(app500)),
                     PAY_DEDUPE_FAILED);

    /* nothing was sent: connection refused */
    assert_int_equal(pay_dedupe_outcome(502, refused, N(refused)),
                     PAY_DEDUPE_FAILED);

    /* a real 503 from the app, not a timeout */
    assert_int_equal(pay_dedupe_outcome(503, app503, N(app503)),
                     PAY_DEDUPE_FAILED);

    /* no upstream, not 2xx */
    assert_int_equal(pay_dedupe_outcome(404, NULL, 0), PAY_DEDUPE_FAILED);
}


static void
test_outcome_unknown(void **state)
{
    pay_dedupe_attempt_t  timeout[] = { { 1, 0, 504 } };
    pay_dedupe_attempt_t  aborted[] = { { 1, 0, 0 } };
    pay_dedupe_attempt_t  first[] = { { 1, 0, 504 }, { 1, 1, 500 } };

    (void) state;

    /* proxy_read_timeout after the request went out */
    assert_int_equal(pay_dedupe_outcome(504, timeout, N(timeout)),
                     PAY_DEDUPE_UNKNOWN);

    /* an error_page turning the 504 into a 200 changes nothing */
    assert_int_equal(pay_dedupe_outcome(200, timeout, N(timeout)),
                     PAY_DEDUPE_UNKNOWN);

    /* the client went away while the app worked */
    assert_int_equal(pay_dedupe_outcome(499, aborted, N(aborted)),
                     PAY_DEDUPE_UNKNOWN);

    /* an earlier attempt (proxy_next_upstream non_idempotent) */
    assert_int_equal(pay_dedupe_outcome(500, first, N(first)),
                     PAY_DEDUPE_UNKNOWN);
}


static void
test_settle(void **state)
{
    (void) state;

    assert_int_equal(pay_dedupe_settle(PAY_DEDUPE_ACCEPTED, 0),
                     PAY_DEDUPE_COMPLETE);
    assert_int_equal(pay_dedupe_settle(PAY_DEDUPE_ACCEPTED, 1),
                     PAY_DEDUPE_COMPLETE);

    assert_int_equal(pay_dedupe_settle(PAY_DEDUPE_UNKNOWN, 0),
                     PAY_DEDUPE_ABANDON);
    assert_int_equal(pay_dedupe_settle(PAY_DEDUPE_UNKNOWN, 1),
                     PAY_DEDUPE_ABANDON);

    /* a known failure: the next delivery is new ... */
    assert_int_equal(pay_dedupe_settle(PAY_DEDUPE_FAILED, 0),
                     PAY_DEDUPE_RELEASE);

    /* ... unless an earlier attempt's outcome is still unknown */
    assert_int_equal(pay_dedupe_settle(PAY_DEDUPE_FAILED, 1),
                     PAY_DEDUPE_ABANDON);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_namespace_literal),
        cmocka_unit_test(test_namespace_length),
        cmocka_unit_test(test_namespace_hashed),
        cmocka_unit_test(test_namespace_stable),
        cmocka_unit_test(test_outcome_accepted),
        cmocka_unit_test(test_outcome_failed),
        cmocka_unit_test(test_outcome_unknown),
        cmocka_unit_test(test_settle),
    };

    return cmocka_run_group_tests_name("pay_dedupe", tests, NULL, NULL);
}
