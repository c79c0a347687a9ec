/*
 * Copyright (C) ngx_pay authors
 *
 * Idempotency keys, the hashes derived from them, and the stored record.
 */


#include <string.h>

#include <openssl/evp.h>

#include "pay_idempotency.h"


/*
 * Bump only with a migration: stored keys and provider keys depend on it.
 * v2 added the server.
 */
#define PAY_IDEMPOTENCY_STORE_TAG      "ngx_pay idempotency store key v2"
#define PAY_IDEMPOTENCY_PROVIDER_TAG   "ngx_pay provider idempotency key v1"
#define PAY_IDEMPOTENCY_FINGERPRINT_TAG  "ngx_pay request fingerprint v1"

/*
 * The fingerprint's tag, the body, and a name and a value per server
 * field: pay_intent_set may set 5 members and 50 metadata keys (110
 * parts); room for more than that.
 */
#define PAY_IDEMPOTENCY_PARTS_MAX      128

#define PAY_IDEMPOTENCY_MAGIC_0        'P'
#define PAY_IDEMPOTENCY_MAGIC_1        'I'
#define PAY_IDEMPOTENCY_VERSION        1
#define PAY_IDEMPOTENCY_TAG_CREATED    'C'
#define PAY_IDEMPOTENCY_TAG_COMPLETED  'D'

/* magic(2) version(1) state(1) fingerprint(64) status(2) ct(2) lens(4+4) */
#define PAY_IDEMPOTENCY_HEADER_LEN     (4 + PAY_IDEMPOTENCY_HASH_LEN + 12)

#define PAY_SHA256_LEN                 32


static int pay_idempotency_sha256(const pay_idempotency_part_t *parts,
    size_t n, int length_prefixed, unsigned char digest[PAY_SHA256_LEN]);
static void pay_idempotency_hex(const unsigned char *in, size_t len,
    char *out);
static int pay_idempotency_is_hex(const char *s, size_t len);
static int pay_idempotency_record_valid(const pay_idempotency_record_t *rec);
static void pay_put16(unsigned char *p, size_t v);
static void pay_put32(unsigned char *p, size_t v);
static size_t pay_get16(const unsigned char *p);
static size_t pay_get32(const unsigned char *p);


pay_rc_e
pay_idempotency_key_parse(const char *v, size_t len, char *out, size_t size,
    size_t *out_len)
{
    size_t       n;
    const char  *p, *end;

    if (v == NULL) {
        return PAY_ERR_IDEMPOTENCY_KEY_MISSING;
    }

    p = v;
    end = v + len;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }

    if (p == end) {
        return PAY_ERR_IDEMPOTENCY_KEY_MISSING;
    }

    if (out == NULL || size < 2) {
        return PAY_ERR_INTERNAL;
    }

    n = 0;

    if (*p == '"') {

        /* RFC 8941 section 4.2.5: the closing quote ends the value */

        for (p++; p < end && *p != '"'; p++) {

            if (*p == '\\') {
                p++;

                if (p == end || (*p != '"' && *p != '\\')) {
                    return PAY_ERR_VALIDATION_FAILED;
                }
            }

            if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e) {
                return PAY_ERR_VALIDATION_FAILED;
            }

            if (n == PAY_IDEMPOTENCY_KEY_MAX) {
                return PAY_ERR_VALIDATION_FAILED;
            }

            if (n + 1 >= size) {
                return PAY_ERR_INTERNAL;
            }

            out[n++] = *p;
        }

        if (p == end || p + 1 != end) {
            return PAY_ERR_VALIDATION_FAILED;
        }

    } else {

        for ( /* void */ ; p < end; p++) {

            if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e
                || n == PAY_IDEMPOTENCY_KEY_MAX)
            {
                return PAY_ERR_VALIDATION_FAILED;
            }

            if (n + 1 >= size) {
                return PAY_ERR_INTERNAL;
            }

            out[n++] = *p;
        }
    }

    if (n == 0 || out[0] == ' ' || out[n - 1] == ' ') {
        return PAY_ERR_VALIDATION_FAILED;
    }

    out[n] = '\0';
    *out_len = n;

    return PAY_OK;
}


int
pay_idempotency_store_key(const char *server, size_t server_len,
    const char *scope, size_t scope_len, const char *location,
    size_t location_len, const char *key, size_t key_len,
    char out[PAY_IDEMPOTENCY_HASH_LEN + 1])
{
    unsigned char           digest[PAY_SHA256_LEN];
    pay_idempotency_part_t  parts[5];

    parts[0].data = PAY_IDEMPOTENCY_STORE_TAG;
    parts[0].len = sizeof(PAY_IDEMPOTENCY_STORE_TAG) - 1;
    parts[1].data = server;
    parts[1].len = server_len;
    parts[2].data = scope;
    parts[2].len = scope_len;
    parts[3].data = location;
    parts[3].len = location_len;
    parts[4].data = key;
    parts[4].len = key_len;

    if (pay_idempotency_sha256(parts, 5, 1, digest) != 0) {
        return -1;
    }

    pay_idempotency_hex(digest, PAY_SHA256_LEN, out);

    return 0;
}


int
pay_idempotency_fingerprint(const unsigned char *body, size_t len,
    char out[PAY_IDEMPOTENCY_HASH_LEN + 1])
{
    unsigned char           digest[PAY_SHA256_LEN];
    pay_idempotency_part_t  part;

    part.data = body;
    part.len = len;

    if (pay_idempotency_sha256(&part, 1, 0, digest) != 0) {
        return -1;
    }

    pay_idempotency_hex(digest, PAY_SHA256_LEN, out);

    return 0;
}


int
pay_idempotency_fingerprint_parts(const unsigned char *body, size_t len,
    const pay_idempotency_part_t *parts, size_t n,
    char out[PAY_IDEMPOTENCY_HASH_LEN + 1])
{
    size_t                  i;
    unsigned char           digest[PAY_SHA256_LEN];
    pay_idempotency_part_t  all[PAY_IDEMPOTENCY_PARTS_MAX];

    if (n == 0) {
        return pay_idempotency_fingerprint(body, len, out);
    }

    if (parts == NULL || n > PAY_IDEMPOTENCY_PARTS_MAX - 2) {
        return -1;
    }

    all[0].data = PAY_IDEMPOTENCY_FINGERPRINT_TAG;
    all[0].len = sizeof(PAY_IDEMPOTENCY_FINGERPRINT_TAG) - 1;
    all[1].data = body;
    all[1].len = len;

    for (i = 0; i < n; i++) {
        all[i + 2] = parts[i];
    }

    if (pay_idempotency_sha256(all, n + 2, 1, digest) != 0) {
        return -1;
    }

    pay_idempotency_hex(digest, PAY_SHA256_LEN, out);

    return 0;
}


int
pay_idempotency_provider_key(const char *store_key, pay_provider_e provider,
    char out[PAY_IDEMPOTENCY_PROVIDER_KEY_LEN + 1])
{
    size_t           prefix;
    unsigned char    number, digest[PAY_SHA256_LEN];
    pay_idempotency_part_t  parts[3];

    if (store_key == NULL) {
        return -1;
    }

    number = (unsigned char) provider;

    parts[0].data = PAY_IDEMPOTENCY_PROVIDER_TAG;
    parts[0].len = sizeof(PAY_IDEMPOTENCY_PROVIDER_TAG) - 1;
    parts[1].data = &number;
    parts[1].len = 1;
    parts[2].data = store_key;
    parts[2].len = strlen(store_key);

    if (pay_idempotency_sha256(parts, 3, 1, digest) != 0) {
        return -1;
    }

    prefix = sizeof(PAY_IDEMPOTENCY_PROVIDER_PREFIX) - 1;

    memcpy(out, PAY_IDEMPOTENCY_PROVIDER_PREFIX, prefix);

    /* 16 bytes, 32 hex digits, then the NUL */
    pay_idempotency_hex(digest, (PAY_IDEMPOTENCY_PROVIDER_KEY_LEN - prefix)
                                / 2,
                        out + prefix);

    return 0;
}


size_t
pay_idempotency_record_size(const pay_idempotency_record_t *rec)
{
    size_t  size;

    if (!pay_idempotency_record_valid(rec)) {
        return 0;
    }

    /* each length is already bounded by PAY_IDEMPOTENCY_RECORD_MAX */

    size = PAY_IDEMPOTENCY_HEADER_LEN + rec->intent_len + rec->content_type_len
           + rec->body_len;

    return (size <= PAY_IDEMPOTENCY_RECORD_MAX) ? size : 0;
}


size_t
pay_idempotency_record_encode(const pay_idempotency_record_t *rec,
    unsigned char *out, size_t size)
{
    size_t          need;
    unsigned char  *p;

    need = pay_idempotency_record_size(rec);

    if (need == 0 || out == NULL || size < need) {
        return 0;
    }

    p = out;

    *p++ = PAY_IDEMPOTENCY_MAGIC_0;
    *p++ = PAY_IDEMPOTENCY_MAGIC_1;
    *p++ = PAY_IDEMPOTENCY_VERSION;
    *p++ = (rec->state == PAY_IDEMPOTENCY_CREATED)
           ? PAY_IDEMPOTENCY_TAG_CREATED : PAY_IDEMPOTENCY_TAG_COMPLETED;

    memcpy(p, rec->fingerprint, PAY_IDEMPOTENCY_HASH_LEN);
    p += PAY_IDEMPOTENCY_HASH_LEN;

    pay_put16(p, (size_t) rec->status);
    pay_put16(p + 2, rec->content_type_len);
    pay_put32(p + 4, rec->intent_len);
    pay_put32(p + 8, rec->body_len);
    p += 12;

    if (rec->intent_len > 0) {
        memcpy(p, rec->intent, rec->intent_len);
        p += rec->intent_len;
    }

    if (rec->content_type_len > 0) {
        memcpy(p, rec->content_type, rec->content_type_len);
        p += rec->content_type_len;
    }

    if (rec->body_len > 0) {
        memcpy(p, rec->body, rec->body_len);
        p += rec->body_len;
    }

    return (size_t) (p - out);
}


int
pay_idempotency_record_decode(const unsigned char *v, size_t len,
    pay_idempotency_record_t *rec)
{
    size_t                    ct_len, intent_len, body_len;
    const unsigned char      *p;
    pay_idempotency_record_t  r;

    if (v == NULL || len < PAY_IDEMPOTENCY_HEADER_LEN
        || len > PAY_IDEMPOTENCY_RECORD_MAX
        || v[0] != PAY_IDEMPOTENCY_MAGIC_0 || v[1] != PAY_IDEMPOTENCY_MAGIC_1
        || v[2] != PAY_IDEMPOTENCY_VERSION)
    {
        return -1;
    }

    memset(&r, 0, sizeof(pay_idempotency_record_t));

    if (v[3] == PAY_IDEMPOTENCY_TAG_CREATED) {
        r.state = PAY_IDEMPOTENCY_CREATED;

    } else if (v[3] == PAY_IDEMPOTENCY_TAG_COMPLETED) {
        r.state = PAY_IDEMPOTENCY_COMPLETED;

    } else {
        return -1;
    }

    p = v + 4;

    memcpy(r.fingerprint, p, PAY_IDEMPOTENCY_HASH_LEN);
    r.fingerprint[PAY_IDEMPOTENCY_HASH_LEN] = '\0';
    p += PAY_IDEMPOTENCY_HASH_LEN;

    r.status = (int) pay_get16(p);
    ct_len = pay_get16(p + 2);
    intent_len = pay_get32(p + 4);
    body_len = pay_get32(p + 8);
    p += 12;

    /* each is below 2^32 and len below 2^17: no sum overflows */

    if (intent_len + ct_len + body_len != len - PAY_IDEMPOTENCY_HEADER_LEN) {
        return -1;
    }

    r.intent = (intent_len > 0) ? p : NULL;
    r.intent_len = intent_len;
    p += intent_len;

    r.content_type = (ct_len > 0) ? (const char *) p : NULL;
    r.content_type_len = ct_len;
    p += ct_len;

    r.body = (body_len > 0) ? p : NULL;
    r.body_len = body_len;

    if (!pay_idempotency_record_valid(&r)) {
        return -1;
    }

    *rec = r;

    return 0;
}


static int
pay_idempotency_record_valid(const pay_idempotency_record_t *rec)
{
    size_t  i;

    if (rec == NULL
        || !pay_idempotency_is_hex(rec->fingerprint, PAY_IDEMPOTENCY_HASH_LEN)
        || rec->intent_len > PAY_IDEMPOTENCY_RECORD_MAX
        || rec->content_type_len > 0xffff
        || rec->body_len > PAY_IDEMPOTENCY_RECORD_MAX
        || (rec->intent == NULL && rec->intent_len != 0)
        || (rec->content_type == NULL && rec->content_type_len != 0)
        || (rec->body == NULL && rec->body_len != 0))
    {
        return 0;
    }

    switch (rec->state) {

    case PAY_IDEMPOTENCY_CREATED:

        /* nothing to replay yet, but the intent to resume with */
        if (rec->status != 0 || rec->content_type_len != 0
            || rec->body_len != 0 || rec->intent_len == 0)
        {
            return 0;
        }

        break;

    case PAY_IDEMPOTENCY_COMPLETED:

        /*
         * only a final answer that is not a 5xx is saved: a 1xx or 5xx
         * read back was not written by the module, and a 1xx replayed
         * would not even be a final answer
         */
        if (rec->status < 200 || rec->status > 499) {
            return 0;
        }

        break;

    default:
        return 0;
    }

    for (i = 0; i < rec->content_type_len; i++) {
        if ((unsigned char) rec->content_type[i] < 0x20
            || (unsigned char) rec->content_type[i] > 0x7e)
        {
            return 0;
        }
    }

    return 1;
}


/*
 * SHA-256 of the parts in order; with length_prefixed, every part but the
 * first (a fixed tag) is preceded by its length, 8 bytes big-endian.
 */

static int
pay_idempotency_sha256(const pay_idempotency_part_t *parts, size_t n,
    int length_prefixed, unsigned char digest[PAY_SHA256_LEN])
{
    int            ok;
    size_t         i, j;
    EVP_MD_CTX    *ctx;
    unsigned int   digest_len;
    unsigned char  prefix[8];

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return -1;
    }

    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);

    for (i = 0; ok && i < n; i++) {

        if (parts[i].data == NULL && parts[i].len != 0) {
            ok = 0;
            break;
        }

        if (length_prefixed && i > 0) {
            for (j = 0; j < 8; j++) {
                prefix[j] = (unsigned char)
                    ((unsigned long long) parts[i].len >> (56 - 8 * j));
            }

            ok = EVP_DigestUpdate(ctx, prefix, 8);
        }

        if (ok && parts[i].len > 0) {
            ok = EVP_DigestUpdate(ctx, parts[i].data, parts[i].len);
        }
    }

    digest_len = 0;

    if (ok) {
        ok = EVP_DigestFinal_ex(ctx, digest, &digest_len)
             && digest_len == PAY_SHA256_LEN;
    }

    EVP_MD_CTX_free(ctx);

    return ok ? 0 : -1;
}


/* writes 2 * len lowercase hex digits and a NUL */

static void
pay_idempotency_hex(const unsigned char *in, size_t len, char *out)
{
    size_t               i;
    static const char    hex[] = "0123456789abcdef";

    for (i = 0; i < len; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 0x0f];
    }

    out[2 * len] = '\0';
}


static int
pay_idempotency_is_hex(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }

    return 1;
}


static void
pay_put16(unsigned char *p, size_t v)
{
    p[0] = (unsigned char) (v >> 8);
    p[1] = (unsigned char) v;
}


static void
pay_put32(unsigned char *p, size_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}


static size_t
pay_get16(const unsigned char *p)
{
    return (size_t) p[0] << 8 | (size_t) p[1];
}


static size_t
pay_get32(const unsigned char *p)
{
    return (size_t) p[0] << 24 | (size_t) p[1] << 16 | (size_t) p[2] << 8
           | (size_t) p[3];
}
