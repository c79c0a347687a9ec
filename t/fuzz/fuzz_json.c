/*
 * Copyright (C) ngx_pay authors
 *
 * libFuzzer target, differential: pay_json_scan_object() against jansson
 * 2.14's json_loadb(), the parser it replaced, on arbitrary input copied
 * into a buffer of its exact size.  A disagreement abort()s:
 *   (a) jansson accepts an object with no duplicate key at all, so the
 *       scanner must accept it;
 *   (b) the scanner accepts, so jansson must, but for the differences
 *       allowed below;
 *   (c) both accept: "id", "type" and "livemode" have the same type on
 *       both sides, and the same value.
 *
 * Allowed differences, each by design (pay_json.h):
 *   - jansson rejects a real that overflows a double ("real number
 *     overflow"); the scanner checks the syntax of numbers only: the
 *     module never reads a number;
 *   - jansson rejects "\u0000" in an object key ("NUL byte in object key
 *     not supported"), a limit of its hash table, not a JSON rule;
 *   - jansson drops a raw NUL byte right after a number or a literal
 *     ("{\"a\":1\0}" parses as "{\"a\":1}": the NUL it read ahead is
 *     pushed back, then taken for an empty look-ahead buffer); the
 *     scanner rejects every raw NUL outside a string, as RFC 8259 does,
 *     so for (a) such input is compared with its NULs removed.
 * Nested and non-wanted duplicate keys, which jansson rejects with
 * JSON_REJECT_DUPLICATES, are accepted by the scanner; (a) therefore
 * only applies when jansson accepts with that flag too.
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pay_json.h"


#define JSON_FLAGS  (JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL)
#define NWANTED     3


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static int scan(const unsigned char *json, size_t len,
    pay_json_member_t *m);
static void check_member(const pay_json_member_t *m,
    const unsigned char *json, size_t len);
static int scan_without_nul(const uint8_t *data, size_t size);
static int allowed_difference(const json_error_t *error);
static void compare_member(const pay_json_member_t *m, json_t *root);
static void check_ascii(const uint8_t *data, size_t size);


static const char  *wanted[NWANTED] = { "id", "type", "livemode" };


static int
scan(const unsigned char *json, size_t len, pay_json_member_t *m)
{
    int     rc;
    size_t  i;

    for (i = 0; i < NWANTED; i++) {
        memset(&m[i], 0x5a, sizeof(pay_json_member_t));
        m[i].name = wanted[i];
    }

    rc = pay_json_scan_object(json, len, m, NWANTED);

    if (rc != 0 && rc != -1) {
        abort();
    }

    for (i = 0; i < NWANTED; i++) {
        if (m[i].name != wanted[i]) {
            abort();
        }

        if (rc == 0) {
            check_member(&m[i], json, len);

        } else if (m[i].type != PAY_JSON_ABSENT || m[i].value != NULL
                   || m[i].len != 0)
        {
            abort();
        }
    }

    return rc;
}


/* what the scanner reports must lie in the input and look like its type */

static void
check_member(const pay_json_member_t *m, const unsigned char *json,
    size_t len)
{
    const unsigned char  *v;

    if (m->type == PAY_JSON_ABSENT) {
        if (m->value != NULL || m->len != 0) {
            abort();
        }

        return;
    }

    v = m->value;

    if (v == NULL || v < json || m->len > len || v + m->len > json + len) {
        abort();
    }

    switch (m->type) {

    case PAY_JSON_STRING:
        if (v == json || v[-1] != '"' || v + m->len == json + len
            || v[m->len] != '"')
        {
            abort();
        }

        break;

    case PAY_JSON_NUMBER:
        if (m->len == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9'))
            || v[m->len - 1] < '0' || v[m->len - 1] > '9')
        {
            abort();
        }

        break;

    case PAY_JSON_TRUE:
        if (m->len != 4 || memcmp(v, "true", 4) != 0) {
            abort();
        }

        break;

    case PAY_JSON_FALSE:
        if (m->len != 5 || memcmp(v, "false", 5) != 0) {
            abort();
        }

        break;

    case PAY_JSON_NULL:
        if (m->len != 4 || memcmp(v, "null", 4) != 0) {
            abort();
        }

        break;

    case PAY_JSON_OBJECT:
        if (m->len < 2 || v[0] != '{' || v[m->len - 1] != '}') {
            abort();
        }

        break;

    case PAY_JSON_ARRAY:
        if (m->len < 2 || v[0] != '[' || v[m->len - 1] != ']') {
            abort();
        }

        break;

    default:
        abort();
    }
}


/* the scanner's verdict on the input with every raw NUL byte removed */

static int
scan_without_nul(const uint8_t *data, size_t size)
{
    int                 rc;
    size_t              i, n;
    unsigned char      *copy;
    pay_json_member_t   m[NWANTED];

    copy = malloc(size);

    if (copy == NULL) {
        abort();
    }

    for (i = 0, n = 0; i < size; i++) {
        if (data[i] != '\0') {
            copy[n++] = data[i];
        }
    }

    rc = scan(copy, n, m);

    free(copy);

    return rc;
}


static int
allowed_difference(const json_error_t *error)
{
    switch (json_error_code(error)) {

    case json_error_numeric_overflow:
    case json_error_null_byte_in_key:
        return 1;

    default:
        return 0;
    }
}


static void
compare_member(const pay_json_member_t *m, json_t *root)
{
    int          same;
    char        *buf, *end;
    size_t       len, i;
    json_t      *value;
    const char  *s;

    value = json_object_get(root, m->name);

    switch (m->type) {

    case PAY_JSON_ABSENT:
        same = (value == NULL);
        break;

    case PAY_JSON_STRING:
        same = json_is_string(value);
        break;

    case PAY_JSON_NUMBER:
        same = json_is_number(value);
        break;

    case PAY_JSON_TRUE:
        same = json_is_true(value);
        break;

    case PAY_JSON_FALSE:
        same = json_is_false(value);
        break;

    case PAY_JSON_NULL:
        same = json_is_null(value);
        break;

    case PAY_JSON_OBJECT:
        same = json_is_object(value);
        break;

    case PAY_JSON_ARRAY:
        same = json_is_array(value);
        break;

    default:
        same = 0;
    }

    if (!same) {
        abort();
    }

    if (m->type != PAY_JSON_STRING && m->type != PAY_JSON_NUMBER) {
        return;
    }

    /* a string decodes to no more bytes than it takes escaped */

    buf = malloc(m->len + 1);

    if (buf == NULL) {
        abort();
    }

    if (m->type == PAY_JSON_NUMBER) {
        memcpy(buf, m->value, m->len);
        buf[m->len] = '\0';

        /* both are strtod() of the same text */
        if (strtod(buf, &end) != json_number_value(value)
            || end != buf + m->len)
        {
            abort();
        }

        free(buf);
        return;
    }

    s = json_string_value(value);

    if (pay_json_string_ascii(m->value, m->len, buf, m->len + 1, &len) == 0)
    {
        if (len != json_string_length(value) || buf[len] != '\0'
            || memcmp(buf, s, len) != 0)
        {
            abort();
        }

    } else {
        /* then jansson's string holds a NUL or something not ASCII */

        for (i = 0; i < json_string_length(value); i++) {
            if (s[i] == '\0' || (unsigned char) s[i] >= 0x80) {
                break;
            }
        }

        if (i == json_string_length(value)) {
            abort();
        }
    }

    free(buf);
}


/* on bytes that are no string found by the scanner: safe, and consistent */

static void
check_ascii(const uint8_t *data, size_t size)
{
    char    dst[16];
    size_t  len, i;

    if (pay_json_string_ascii(data, size, dst, sizeof(dst), &len) != 0) {
        return;
    }

    if (len >= sizeof(dst) || len > size || dst[len] != '\0') {
        abort();
    }

    for (i = 0; i < len; i++) {
        if (dst[i] < 0x01) {
            abort();
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 rc;
    size_t              i;
    json_t             *root, *strict;
    json_error_t        error;
    unsigned char      *json;
    pay_json_member_t   m[NWANTED];

    json = (size != 0) ? malloc(size) : NULL;

    if (size != 0) {
        if (json == NULL) {
            abort();
        }

        memcpy(json, data, size);
    }

    rc = scan(json, size, m);

    root = json_loadb((const char *) data, size, JSON_FLAGS, &error);

    /* (a) */

    if (rc != 0 && root != NULL && json_is_object(root)) {
        strict = json_loadb((const char *) data, size,
                            JSON_FLAGS | JSON_REJECT_DUPLICATES, NULL);

        if (strict != NULL
            && (memchr(data, '\0', size) == NULL
                || scan_without_nul(data, size) != 0))
        {
            abort();
        }

        json_decref(strict);
    }

    /* (b) */

    if (rc == 0 && root == NULL && !allowed_difference(&error)) {
        abort();
    }

    /* (c) */

    if (rc == 0 && root != NULL) {
        if (!json_is_object(root)) {
            abort();
        }

        for (i = 0; i < NWANTED; i++) {
            compare_member(&m[i], root);
        }
    }

    json_decref(root);

    check_ascii(json, size);

    free(json);

    return 0;
}
