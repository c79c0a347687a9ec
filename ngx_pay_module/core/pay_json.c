/*
 * Copyright (C) ngx_pay authors
 *
 * A single-pass JSON validator that reports a few top-level members.
 *
 * A tree-building parser (jansson) spends most of its time allocating the
 * nodes and strings of a whole event when the module needs three members
 * of it.  Here the input is walked once with a cursor: each byte is looked
 * at a bounded number of times, nothing is copied or allocated, and the
 * nesting is kept as one bit per level (object or array) on the C stack
 * instead of by recursion, so no input can exhaust the stack.  Every read
 * is checked against the end of the input, which need not be
 * NUL-terminated.
 */


#include <stdint.h>
#include <string.h>

#include "pay_json.h"


/* x86-64 always has SSE2; elsewhere eight bytes at a time in a word */
#if defined(__GNUC__) && defined(__SSE2__)
#define PAY_JSON_SSE2  1
#include <emmintrin.h>
#else
#define PAY_JSON_SSE2  0
#endif


/* the classes of a byte inside a string */
#define PAY_JSON_PLAIN   0      /* stands for itself */
#define PAY_JSON_QUOTE   1
#define PAY_JSON_ESCAPE  2
#define PAY_JSON_BAD     3      /* a control byte, or never in UTF-8 */
#define PAY_JSON_UTF8    4      /* the first UTF-8 lead byte class */


/* eight bytes at a time: bytes of 0x01 and of 0x80 */
#define PAY_JSON_ONES    0x0101010101010101ULL
#define PAY_JSON_HIGHS   0x8080808080808080ULL


typedef struct {
    unsigned char  n;       /* continuation bytes after the lead byte */
    unsigned char  lo;      /* the range of the first of them */
    unsigned char  hi;
} pay_json_utf8_t;


static inline const unsigned char *pay_json_string(const unsigned char *p,
    const unsigned char *end);
static const unsigned char *pay_json_string_rest(const unsigned char *p,
    const unsigned char *end);
static int pay_json_hex4(const unsigned char *p);
static inline uint64_t pay_json_unplain(const unsigned char *p);
static inline size_t pay_json_first(const unsigned char *p, uint64_t mask);
static pay_json_member_t *pay_json_match(const unsigned char *name,
    size_t len, pay_json_member_t *members, size_t n);
static void pay_json_set(pay_json_member_t *m, const unsigned char *start,
    const unsigned char *end);


/*
 * Lead bytes by Unicode Table 3-7 (well-formed UTF-8): the narrower
 * ranges after E0, ED, F0 and F4 exclude overlong forms, the surrogates
 * and what lies beyond U+10FFFF; C0, C1 and F5..FF never occur.
 */
static const unsigned char  pay_json_class[256] = {
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,     /* 00..0f */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,     /* 10..1f */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 20..2f */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 30..3f */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 40..4f */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,     /* 50..5f */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 60..6f */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 70..7f */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,     /* 80..8f */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,     /* 90..9f */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,     /* a0..af */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,     /* b0..bf */
    3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,     /* c0..cf */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,     /* d0..df */
    5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7, 6, 6,     /* e0..ef */
    8, 9, 9, 9, 10, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3     /* f0..ff */
};


/* indexed by class - PAY_JSON_UTF8 */
static const pay_json_utf8_t  pay_json_utf8[] = {
    { 1, 0x80, 0xbf },      /* C2..DF */
    { 2, 0xa0, 0xbf },      /* E0 */
    { 2, 0x80, 0xbf },      /* E1..EC, EE..EF */
    { 2, 0x80, 0x9f },      /* ED */
    { 3, 0x90, 0xbf },      /* F0 */
    { 3, 0x80, 0xbf },      /* F1..F3 */
    { 3, 0x80, 0x8f }       /* F4 */
};


/* SP, HTAB, LF and CR by bit: one comparison for the bytes that are not */
#define PAY_JSON_SPACES  ((1ULL << ' ') | (1ULL << '\t') | (1ULL << '\n')   \
                          | (1ULL << '\r'))

static inline int
pay_json_is_space(unsigned char c)
{
    return c <= ' ' && ((PAY_JSON_SPACES >> c) & 1);
}

#define pay_json_is_digit(c)  ((unsigned char) ((c) - '0') <= 9)

#define pay_json_skip_space(p, end)                                           \
    while ((p) < (end) && pay_json_is_space(*(p))) {                          \
        (p)++;                                                                \
    }


/*
 * p is just past the opening quote.  Returns the closing quote, or NULL
 * when the string is not valid or not closed.
 *
 * Inline, for a short string of plain bytes, the most frequent by far:
 * its end is found without a call, and anything else (an escape, UTF-8,
 * the input's last bytes) is left to pay_json_string_rest().
 */

static inline const unsigned char *
pay_json_string(const unsigned char *p, const unsigned char *end)
{
    uint64_t  mask;
#if (PAY_JSON_SSE2)
    unsigned  bits;
    __m128i   x;

    /* sixteen bytes at a time: signed, below 0x20 is also from 0x80 */

    while (end - p >= 16) {
        x = _mm_loadu_si128((const __m128i *) (const void *) p);

        bits = (unsigned) _mm_movemask_epi8(
                   _mm_or_si128(
                       _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                    _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                       _mm_cmplt_epi8(x, _mm_set1_epi8(0x20))));

        if (bits != 0) {
            p += __builtin_ctz(bits);

            return (*p == '"') ? p : pay_json_string_rest(p, end);
        }

        p += 16;
    }
#endif

    while (end - p >= 8) {
        mask = pay_json_unplain(p);

        if (mask != 0) {
            p += pay_json_first(p, mask);

            return (*p == '"') ? p : pay_json_string_rest(p, end);
        }

        p += 8;
    }

    return pay_json_string_rest(p, end);
}


/* the same, from any byte inside a string */

static const unsigned char *
pay_json_string_rest(const unsigned char *p, const unsigned char *end)
{
    int                     u;
    size_t                  i;
    uint64_t                mask;
    unsigned                cls;
    const pay_json_utf8_t  *utf8;

    for ( ;; ) {

        /*
         * The first byte that is not plain is found from the mask, not by
         * a loop over the bytes
         */

        while (end - p >= 8) {
            mask = pay_json_unplain(p);

            if (mask != 0) {
                p += pay_json_first(p, mask);
                goto special;
            }

            p += 8;
        }

        while (p < end && pay_json_class[*p] == PAY_JSON_PLAIN) {
            p++;
        }

        if (p == end) {
            return NULL;
        }

    special:

        cls = pay_json_class[*p];

        switch (cls) {

        case PAY_JSON_QUOTE:
            return p;

        case PAY_JSON_ESCAPE:

            if (end - p < 2) {
                return NULL;
            }

            switch (p[1]) {

            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                p += 2;
                continue;

            case 'u':
                break;

            default:
                return NULL;
            }

            if (end - p < 6 || (u = pay_json_hex4(p + 2)) < 0) {
                return NULL;
            }

            p += 6;

            if (u < 0xd800 || u > 0xdfff) {
                continue;
            }

            /* a low surrogate alone, or a high one without a low one */

            if (u > 0xdbff
                || end - p < 6 || p[0] != '\\' || p[1] != 'u'
                || (u = pay_json_hex4(p + 2)) < 0xdc00 || u > 0xdfff)
            {
                return NULL;
            }

            p += 6;
            continue;

        case PAY_JSON_BAD:
            return NULL;

        default:
            utf8 = &pay_json_utf8[cls - PAY_JSON_UTF8];

            if ((size_t) (end - p) <= utf8->n
                || p[1] < utf8->lo || p[1] > utf8->hi)
            {
                return NULL;
            }

            for (i = 2; i <= utf8->n; i++) {
                if ((p[i] & 0xc0) != 0x80) {
                    return NULL;
                }
            }

            p += utf8->n + 1;
        }
    }
}


/*
 * Nonzero when one of the eight bytes at p is not PAY_JSON_PLAIN: below
 * 0x20, '"', '\\' or from 0x80.  The tests for a byte below n and for a
 * zero byte ((x - 0x01..) & ~x & 0x80..) are exact as to whether there is
 * one, for bytes below 0x80 (pay_json_first() says which flag is exact);
 * a byte from 0x80 is caught by its own high bit.
 */

static inline uint64_t
pay_json_unplain(const unsigned char *p)
{
    uint64_t  w, q, b;

    memcpy(&w, p, sizeof(uint64_t));

    q = w ^ (PAY_JSON_ONES * '"');
    b = w ^ (PAY_JSON_ONES * '\\');

    return (((w - PAY_JSON_ONES * 0x20) & ~w)
            | ((q - PAY_JSON_ONES) & ~q)
            | ((b - PAY_JSON_ONES) & ~b)
            | w)
           & PAY_JSON_HIGHS;
}


/*
 * The offset of the first of the eight bytes at p that is not plain,
 * given pay_json_unplain()'s nonzero mask of them.  On a little-endian
 * machine the first byte in memory is the least significant of the
 * word, and the lowest flag is exact, since a borrow only carries
 * towards the more significant bytes.  Elsewhere the flags before a
 * match may be false, and the bytes are looked at one by one.
 */

static inline size_t
pay_json_first(const unsigned char *p, uint64_t mask)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__)                             \
    && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__

    (void) p;

    return (size_t) __builtin_ctzll(mask) >> 3;

#else
    size_t  i;

    (void) mask;

    for (i = 0; pay_json_class[p[i]] == PAY_JSON_PLAIN; i++) {
        /* void */
    }

    return i;
#endif
}


/* 4 hex digits, either case: their value, or -1 */

static int
pay_json_hex4(const unsigned char *p)
{
    int            i, v;
    unsigned char  c;

    v = 0;

    for (i = 0; i < 4; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            c -= '0';

        } else {
            c |= 0x20;  /* 'A'..'F' to 'a'..'f'; no other byte lands there */

            if (c < 'a' || c > 'f') {
                return -1;
            }

            c -= 'a' - 10;
        }

        v = (v << 4) | c;
    }

    return v;
}


/*
 * The wanted member a top-level name stands for, or NULL.  The name is
 * compared decoded, as the application's parser will see it; one that
 * does not decode to short ASCII cannot equal an ASCII name.
 */

static pay_json_member_t *
pay_json_match(const unsigned char *name, size_t len,
    pay_json_member_t *members, size_t n)
{
    char    buf[PAY_JSON_NAME_MAX + 1];
    size_t  i, buf_len;

    if (memchr(name, '\\', len) == NULL) {

        /*
         * No escape, as in every event a provider sends: the name is its
         * bytes, and a byte from 0x80 equals no byte of a wanted name,
         * which is ASCII (pay_json.h)
         */

        if (len > PAY_JSON_NAME_MAX) {
            return NULL;
        }

        for (i = 0; i < n; i++) {
            if (strncmp(members[i].name, (const char *) name, len) == 0
                && members[i].name[len] == '\0')
            {
                return &members[i];
            }
        }

        return NULL;
    }

    if (pay_json_string_ascii(name, len, buf, sizeof(buf), &buf_len) != 0) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (strcmp(members[i].name, buf) == 0) {
            return &members[i];
        }
    }

    return NULL;
}


/* start..end is a whole value, already validated */

static void
pay_json_set(pay_json_member_t *m, const unsigned char *start,
    const unsigned char *end)
{
    switch (*start) {

    case '"':
        m->type = PAY_JSON_STRING;
        m->value = start + 1;
        m->len = (size_t) (end - start) - 2;
        return;

    case '{':
        m->type = PAY_JSON_OBJECT;
        break;

    case '[':
        m->type = PAY_JSON_ARRAY;
        break;

    case 't':
        m->type = PAY_JSON_TRUE;
        break;

    case 'f':
        m->type = PAY_JSON_FALSE;
        break;

    case 'n':
        m->type = PAY_JSON_NULL;
        break;

    default:
        m->type = PAY_JSON_NUMBER;
    }

    m->value = start;
    m->len = (size_t) (end - start);
}


int
pay_json_scan_object(const unsigned char *json, size_t len,
    pay_json_member_t *members, size_t n)
{
    size_t                i, depth;
    unsigned              object;
    unsigned char         stack[PAY_JSON_MAX_DEPTH / 8];
    pay_json_member_t    *want;
    const unsigned char  *p, *end, *start, *top;

    for (i = 0; i < n; i++) {
        members[i].type = PAY_JSON_ABSENT;
        members[i].value = NULL;
        members[i].len = 0;
    }

    if (json == NULL) {
        return -1;
    }

    p = json;
    end = json + len;

    pay_json_skip_space(p, end);

    if (p == end || *p != '{') {
        return -1;
    }

    p++;

    /*
     * depth: the containers open; bit (d - 1) of stack is set when the
     * container at level d is an object, and object caches that bit for
     * the innermost one.  want: the wanted member whose value, starting
     * at top, is being read.
     */

    stack[0] = 1;
    depth = 1;
    object = 1;
    want = NULL;
    top = NULL;

    /* just past a '{' */

open_object:

    pay_json_skip_space(p, end);

    if (p < end && *p == '}') {
        p++;
        goto close;
    }

    /* a member's name is expected */

name:

    if (p == end || *p != '"') {
        goto failed;
    }

    start = p + 1;
    p = pay_json_string(start, end);

    if (p == NULL) {
        goto failed;
    }

    if (depth == 1 && n != 0) {
        want = pay_json_match(start, (size_t) (p - start), members, n);

        if (want != NULL && want->type != PAY_JSON_ABSENT) {
            goto failed;
        }
    }

    p++;

    pay_json_skip_space(p, end);

    if (p == end || *p != ':') {
        goto failed;
    }

    p++;

    /* a value is expected */

value:

    pay_json_skip_space(p, end);

    /* the value is at level depth + 1: jansson counts scalars too */

    if (p == end || depth == PAY_JSON_MAX_DEPTH) {
        goto failed;
    }

    if (depth == 1) {
        top = p;
    }

    switch (*p) {

    case '{':
    case '[':
        object = (*p == '{');

        if (object) {
            stack[depth >> 3] |= (unsigned char) (1u << (depth & 7));

        } else {
            stack[depth >> 3] &= (unsigned char) ~(1u << (depth & 7));
        }

        depth++;
        p++;

        if (object) {
            goto open_object;
        }

        pay_json_skip_space(p, end);

        if (p < end && *p == ']') {
            p++;
            goto close;
        }

        goto value;

    case '"':
        p = pay_json_string(p + 1, end);

        if (p == NULL) {
            goto failed;
        }

        p++;
        break;

    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0) {
            goto failed;
        }

        p += 4;
        break;

    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0) {
            goto failed;
        }

        p += 5;
        break;

    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0) {
            goto failed;
        }

        p += 4;
        break;

    default:

        /* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */

        if (*p == '-') {
            p++;
        }

        if (p == end || !pay_json_is_digit(*p)) {
            goto failed;
        }

        if (*p++ != '0') {
            while (p < end && pay_json_is_digit(*p)) {
                p++;
            }
        }

        if (p < end && *p == '.') {
            p++;

            if (p == end || !pay_json_is_digit(*p)) {
                goto failed;
            }

            while (p < end && pay_json_is_digit(*p)) {
                p++;
            }
        }

        if (p < end && (*p == 'e' || *p == 'E')) {
            p++;

            if (p < end && (*p == '+' || *p == '-')) {
                p++;
            }

            if (p == end || !pay_json_is_digit(*p)) {
                goto failed;
            }

            while (p < end && pay_json_is_digit(*p)) {
                p++;
            }
        }
    }

    /* a value has ended */

next:

    if (want != NULL && depth == 1) {
        pay_json_set(want, top, p);
        want = NULL;
    }

    pay_json_skip_space(p, end);

    if (p == end) {
        goto failed;
    }

    if (*p == ',') {
        p++;

        if (object) {
            pay_json_skip_space(p, end);
            goto name;
        }

        goto value;
    }

    if (*p != (object ? '}' : ']')) {
        goto failed;
    }

    p++;

    /* just past the '}' or ']' that closes the innermost container */

close:

    depth--;

    if (depth != 0) {
        object = (stack[(depth - 1) >> 3] >> ((depth - 1) & 7)) & 1;
        goto next;
    }

    pay_json_skip_space(p, end);

    if (p == end) {
        return 0;
    }

failed:

    for (i = 0; i < n; i++) {
        members[i].type = PAY_JSON_ABSENT;
        members[i].value = NULL;
        members[i].len = 0;
    }

    return -1;
}


int
pay_json_string_ascii(const unsigned char *value, size_t len, char *dst,
    size_t size, size_t *out_len)
{
    int     c;
    size_t  i, n;

    /* indexes, not pointers: value may be NULL when len is 0 */

    n = 0;

    for (i = 0; i < len; /* void */ ) {
        c = value[i++];

        if (c == '\\') {
            if (i == len) {
                return -1;
            }

            switch (value[i++]) {

            case '"':
                c = '"';
                break;

            case '\\':
                c = '\\';
                break;

            case '/':
                c = '/';
                break;

            case 'b':
                c = '\b';
                break;

            case 'f':
                c = '\f';
                break;

            case 'n':
                c = '\n';
                break;

            case 'r':
                c = '\r';
                break;

            case 't':
                c = '\t';
                break;

            case 'u':
                if (len - i < 4) {
                    return -1;
                }

                c = pay_json_hex4(value + i);
                i += 4;

                /* a surrogate, or a bad digit (-1), is not ASCII either */

                if (c < 0x01 || c > 0x7f) {
                    return -1;
                }

                break;

            default:
                return -1;
            }

        } else if (c < 0x20 || c > 0x7f || c == '"') {
            /* not ASCII, or not inside a valid JSON string */
            return -1;
        }

        /* room for c and the NUL */

        if (size - n < 2) {
            return -1;
        }

        dst[n++] = (char) c;
    }

    if (size == 0) {
        return -1;
    }

    dst[n] = '\0';
    *out_len = n;

    return 0;
}
