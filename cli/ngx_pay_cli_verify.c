
/*
 * Copyright (C) ngx_pay authors
 *
 * `ngx-pay verify`: a captured raw HTTP request (request line, headers,
 * body) checked offline with core's verifiers, in the module's order, and
 * the verdict with the error code the module would give
 * (docs/cli.md#verify, docs/errors.md).
 */


#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "ngx_pay_cli.h"
#include "pay_crc32.h"
#include "pay_error.h"
#include "pay_event.h"
#include "pay_hmac.h"
#include "pay_paypal.h"
#include "pay_square.h"
#include "pay_standard.h"
#include "pay_stripe.h"
#include "pay_timestamp.h"


#define CLI_KEYS_MAX     8
#define CLI_REQ_HEADERS  100
#define CLI_HOSTS_MAX    8


typedef struct {
    const char  *name;
    size_t       name_len;
    const char  *value;
    size_t       value_len;
} cli_req_header_t;


typedef struct {
    const char        *method;
    size_t             method_len;
    size_t             n;
    cli_req_header_t   h[CLI_REQ_HEADERS];
    cli_buf_t          body;        /* into the capture, or dechunked */
    int                own_body;
} cli_request_t;


typedef struct {
    cli_provider_e     provider;
    size_t             nsecrets;
    const char        *secrets[CLI_KEYS_MAX];
    size_t             secret_len[CLI_KEYS_MAX];  /* a file: may hold NUL */
    const char        *url;
    const char        *webhook_id;
    const char        *cert;
    const char        *ca;
    size_t             nhosts;
    const char        *hosts[CLI_HOSTS_MAX];
    long long          now;
    long long          tolerance;
    long long          window;
    int                square_sha1;
} cli_verify_conf_t;


static int cli_request_parse(cli_buf_t *raw, cli_request_t *r);
static int cli_dechunk(const unsigned char *p, size_t len, cli_buf_t *out);
static const char *cli_request_header(const cli_request_t *r,
    const char *name, size_t *len, int *repeated);
static pay_rc_e cli_verify_request(const cli_verify_conf_t *conf,
    const cli_request_t *r, pay_event_t *ev, const char **detail);
static pay_rc_e cli_verify_hmac(const cli_verify_conf_t *conf,
    const cli_request_t *r, pay_event_t *ev, const char **detail);
static pay_rc_e cli_verify_paypal(const cli_verify_conf_t *conf,
    const cli_request_t *r, pay_event_t *ev, const char **detail);
static int cli_parse_time(const char *s, long long *t);


static const char  cli_verify_usage[] =
    "usage: ngx-pay verify PROVIDER [options] < captured.http\n"
    "\n"
    "Checks a captured raw HTTP request (request line, headers, an empty\n"
    "line, the body; Content-Length or chunked) offline, as the module\n"
    "would, and prints \"ok: ...\" or \"refused: STATUS CODE: why\" with\n"
    "the module's error code (docs/errors.md).\n"
    "\n"
    "  --secret S            stripe, square, standard: a signing secret\n"
    "                        (value, env:NAME, file:PATH); repeat it for a\n"
    "                        rotation, as pay_webhook_secret\n"
    "  --notification-url U  square: pay_webhook_url\n"
    "  --window T            square: pay_webhook_square_window, seconds\n"
    "                        (default 0: off)\n"
    "  --square-sha1         square: pay_webhook_square_sha1 on: without\n"
    "                        x-square-hmacsha256-signature, the legacy\n"
    "                        x-square-signature (HMAC-SHA1) is checked\n"
    "  --tolerance T         pay_webhook_tolerance, seconds (default 300;\n"
    "                        0: off)\n"
    "  --now T               the time to check at, Unix seconds or RFC 3339\n"
    "                        (default: now)\n"
    "  --webhook-id ID       paypal: pay_paypal_webhook_id (value, env:,\n"
    "                        file:)\n"
    "  --cert FILE           paypal: the PEM certificate paypal-cert-url\n"
    "                        names (fetched beforehand: this is offline)\n"
    "  --ca FILE             paypal: pay_paypal_trusted_certificate\n"
    "                        (default: the system's bundle)\n"
    "  --cert-host HOST      paypal: pay_paypal_cert_hosts (repeatable;\n"
    "                        default: the module's four)\n"
    "\n"
    "Exit status: 0 the module would pass it on, 1 it would refuse it,\n"
    "2 bad input.  Not checked offline: duplicates and PayPal's\n"
    "transmission binding (they need the module's store).\n";


int
cli_verify(int argc, char **argv)
{
    int                 c, rc;
    size_t              i;
    pay_rc_e            prc;
    cli_buf_t           raw, secrets[CLI_KEYS_MAX], wid;
    const char         *detail, *webhook_id;
    pay_event_t         ev;
    cli_request_t       req;
    cli_verify_conf_t   conf;
    const pay_error_info_t  *info;

    static const char  *default_hosts[] = {
        "api.paypal.com", "api-m.paypal.com", "api.sandbox.paypal.com",
        "api-m.sandbox.paypal.com"
    };

    static const struct option  options[] = {
        { "secret", required_argument, NULL, 's' },
        { "notification-url", required_argument, NULL, 'u' },
        { "window", required_argument, NULL, 'W' },
        { "square-sha1", no_argument, NULL, '1' },
        { "tolerance", required_argument, NULL, 'T' },
        { "now", required_argument, NULL, 'n' },
        { "webhook-id", required_argument, NULL, 'w' },
        { "cert", required_argument, NULL, 'c' },
        { "ca", required_argument, NULL, 'a' },
        { "cert-host", required_argument, NULL, 'H' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&conf, 0, sizeof(conf));
    memset(&req, 0, sizeof(req));
    memset(secrets, 0, sizeof(secrets));
    memset(&wid, 0, sizeof(wid));
    memset(&raw, 0, sizeof(raw));
    conf.now = (long long) time(NULL);
    conf.tolerance = 300;
    webhook_id = NULL;

    opterr = 0;
    optind = 1;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 's':
            if (conf.nsecrets == CLI_KEYS_MAX) {
                cli_error("at most %d --secret", CLI_KEYS_MAX);
                return CLI_USAGE;
            }
            conf.secrets[conf.nsecrets++] = optarg;
            break;
        case 'u':
            conf.url = optarg;
            break;
        case '1':
            conf.square_sha1 = 1;
            break;
        case 'W':
            if (cli_parse_number(optarg, 0, 1LL << 40, &conf.window) != 0) {
                cli_error("--window \"%s\" is not seconds", optarg);
                return CLI_USAGE;
            }
            break;
        case 'T':
            if (cli_parse_number(optarg, 0, 1LL << 40, &conf.tolerance)
                != 0)
            {
                cli_error("--tolerance \"%s\" is not seconds", optarg);
                return CLI_USAGE;
            }
            break;
        case 'n':
            if (cli_parse_time(optarg, &conf.now) != 0) {
                cli_error("--now \"%s\" is neither Unix seconds nor an "
                          "RFC 3339 date-time", optarg);
                return CLI_USAGE;
            }
            break;
        case 'w':
            webhook_id = optarg;
            break;
        case 'c':
            conf.cert = optarg;
            break;
        case 'a':
            conf.ca = optarg;
            break;
        case 'H':
            if (conf.nhosts == CLI_HOSTS_MAX) {
                cli_error("at most %d --cert-host", CLI_HOSTS_MAX);
                return CLI_USAGE;
            }
            conf.hosts[conf.nhosts++] = optarg;
            break;
        case 'h':
            fputs(cli_verify_usage, stdout);
            return CLI_OK;
        default:
            return cli_option_error(c, argv);
        }
    }

    if (cli_provider_arg(argc, argv, &conf.provider) != 0) {
        return CLI_USAGE;
    }

    rc = CLI_USAGE;

    if (conf.provider == CLI_PAYPAL) {
        if (cli_secret_load("--webhook-id", webhook_id, &wid) != 0) {
            goto done;
        }
        conf.webhook_id = (const char *) wid.data;

        if (conf.cert == NULL) {
            cli_error("--cert is missing (the PEM certificate the "
                      "delivery's paypal-cert-url names)");
            goto done;
        }

        if (conf.nhosts == 0) {
            for (i = 0; i < 4; i++) {
                conf.hosts[i] = default_hosts[i];
            }
            conf.nhosts = 4;
        }

    } else {
        if (conf.nsecrets == 0) {
            cli_error("--secret is missing (the endpoint's signing secret: "
                      "a value, env:NAME or file:PATH)");
            goto done;
        }

        for (i = 0; i < conf.nsecrets; i++) {
            if (cli_secret_load("--secret", conf.secrets[i], &secrets[i])
                != 0)
            {
                goto done;
            }
            conf.secrets[i] = (const char *) secrets[i].data;
            conf.secret_len[i] = secrets[i].len;
        }

        if (conf.provider == CLI_SQUARE && conf.url == NULL) {
            cli_error("--notification-url is missing (Square signs the "
                      "URL the subscription names: pay_webhook_url)");
            goto done;
        }
    }

    if (cli_read_stream(stdin, "the captured request on stdin", &raw) != 0)
    {
        goto done;
    }

    if (cli_request_parse(&raw, &req) != 0) {
        goto done;
    }

    detail = "";
    prc = cli_verify_request(&conf, &req, &ev, &detail);

    if (prc == PAY_OK) {
        printf("ok: %s event %s, type %s, kind %s: the module would pass it "
               "on (unless it is a duplicate)\n",
               cli_provider_name(conf.provider), ev.id,
               ev.type_len ? ev.type : "(none)", ev.kind);
        rc = CLI_OK;

    } else {
        info = pay_error_info(prc);
        printf("refused: %d %s: %s\n", info->status, info->code, detail);
        rc = CLI_FAIL;
    }

done:

    for (i = 0; i < CLI_KEYS_MAX; i++) {
        cli_buf_wipe(&secrets[i]);
    }

    if (req.own_body) {
        cli_buf_free(&req.body);
    }

    cli_buf_free(&raw);
    cli_buf_free(&wid);

    return rc;
}


/*
 * The capture: "METHOD target HTTP/1.1", header lines, an empty line,
 * the body.  Lines end with CRLF or LF (a capture saved by hand).  The
 * body is Content-Length bytes, or chunked, or all that follows.
 */

static int
cli_request_parse(cli_buf_t *raw, cli_request_t *r)
{
    int              repeated;
    char            *end;
    size_t           vlen;
    const char      *p, *last, *eol, *colon, *v, *ve, *cl, *te;
    unsigned long    n;

    p = (const char *) raw->data;
    last = p + raw->len;

    eol = memchr(p, '\n', (size_t) (last - p));
    if (eol == NULL) {
        cli_error("the capture has no request line (METHOD target HTTP/1.1)");
        return -1;
    }

    r->method = p;
    v = memchr(p, ' ', (size_t) (eol - p));
    if (v == NULL || v == p) {
        cli_error("the capture's first line is not a request line");
        return -1;
    }
    r->method_len = (size_t) (v - p);

    p = eol + 1;

    for ( ;; ) {
        eol = memchr(p, '\n', (size_t) (last - p));
        if (eol == NULL) {
            cli_error("the capture's headers do not end with an empty line");
            return -1;
        }

        ve = eol;
        if (ve > p && ve[-1] == '\r') {
            ve--;
        }

        if (ve == p) {
            p = eol + 1;
            break;
        }

        colon = memchr(p, ':', (size_t) (ve - p));
        if (colon == NULL || colon == p) {
            cli_error("the capture has a header line without a name and "
                      "a colon");
            return -1;
        }

        if (r->n == CLI_REQ_HEADERS) {
            cli_error("the capture has more than %d headers",
                      CLI_REQ_HEADERS);
            return -1;
        }

        v = colon + 1;
        while (v < ve && (*v == ' ' || *v == '\t')) {
            v++;
        }
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
            ve--;
        }

        r->h[r->n].name = p;
        r->h[r->n].name_len = (size_t) (colon - p);
        r->h[r->n].value = v;
        r->h[r->n].value_len = (size_t) (ve - v);
        r->n++;

        p = eol + 1;
    }

    te = cli_request_header(r, "Transfer-Encoding", &vlen, &repeated);

    if (te != NULL && vlen == 7 && strncasecmp(te, "chunked", 7) == 0) {
        if (cli_dechunk((const unsigned char *) p, (size_t) (last - p),
                        &r->body)
            != 0)
        {
            cli_error("the capture's chunked body is broken");
            return -1;
        }
        r->own_body = 1;
        return 0;
    }

    cl = cli_request_header(r, "Content-Length", &vlen, &repeated);

    r->body.data = (unsigned char *) p;
    r->body.len = (size_t) (last - p);

    if (cl != NULL) {
        n = strtoul(cl, &end, 10);
        if (repeated || end != cl + vlen || vlen == 0) {
            cli_error("the capture's Content-Length is not one number");
            return -1;
        }

        if (n > r->body.len) {
            cli_error("the capture's body is %zu bytes, shorter than its "
                      "Content-Length %lu", r->body.len, n);
            return -1;
        }

        r->body.len = n;
    }

    return 0;
}


static int
cli_dechunk(const unsigned char *p, size_t len, cli_buf_t *out)
{
    char                 *end;
    size_t                size;
    const unsigned char  *last, *eol;

    last = p + len;
    out->data = malloc(len + 1);
    out->len = 0;

    if (out->data == NULL) {
        return -1;
    }

    for ( ;; ) {
        eol = memchr(p, '\n', (size_t) (last - p));
        if (eol == NULL) {
            goto failed;
        }

        size = strtoul((const char *) p, &end, 16);
        if ((const unsigned char *) end == p) {
            goto failed;
        }

        p = eol + 1;

        if (size == 0) {
            break;
        }

        if (size > (size_t) (last - p)) {
            goto failed;
        }

        memcpy(out->data + out->len, p, size);
        out->len += size;
        p += size;

        if (p < last && *p == '\r') {
            p++;
        }
        if (p < last && *p == '\n') {
            p++;
        }
    }

    out->data[out->len] = '\0';

    return 0;

failed:

    cli_buf_free(out);

    return -1;
}


static const char *
cli_request_header(const cli_request_t *r, const char *name, size_t *len,
    int *repeated)
{
    size_t       i, nlen;
    const char  *found;

    nlen = strlen(name);
    found = NULL;
    *repeated = 0;
    *len = 0;

    for (i = 0; i < r->n; i++) {
        if (r->h[i].name_len == nlen
            && strncasecmp(r->h[i].name, name, nlen) == 0)
        {
            if (found != NULL) {
                *repeated = 1;
                continue;
            }

            found = r->h[i].value;
            *len = r->h[i].value_len;
        }
    }

    return found;
}


static pay_rc_e
cli_verify_request(const cli_verify_conf_t *conf, const cli_request_t *r,
    pay_event_t *ev, const char **detail)
{
    if (r->method_len != 4 || memcmp(r->method, "POST", 4) != 0) {
        *detail = "a webhook is a POST (the module answers 405, Allow: POST)";
        return PAY_ERR_METHOD_NOT_ALLOWED;
    }

    if (conf->provider == CLI_PAYPAL) {
        return cli_verify_paypal(conf, r, ev, detail);
    }

    return cli_verify_hmac(conf, r, ev, detail);
}


/* Stripe, Square, Standard Webhooks: core's verifiers, then the body */

static pay_rc_e
cli_verify_hmac(const cli_verify_conf_t *conf, const cli_request_t *r,
    pay_event_t *ev, const char **detail)
{
    int              rep[3];
    size_t           i, k, n, klen, len[3];
    pay_rc_e         rc;
    pay_digest_e     digest;
    long long        created;
    const char      *v[3];
    unsigned char    key[CLI_SECRET_MAX];
    pay_hmac_key_t  *keys[CLI_KEYS_MAX];

    /*
     * The module's headers, in its order (ngx_http_pay_standard.c,
     * ngx_http_pay_square.c): Standard Webhooks' names, else Svix's when
     * none of them is there; Square's current header, else the legacy
     * SHA-1 one under --square-sha1 (pay_webhook_square_sha1 on).
     */
    static const char  *names[][2][3] = {
        [CLI_STRIPE] = { { "Stripe-Signature", NULL, NULL },
                         { NULL, NULL, NULL } },
        [CLI_SQUARE] = { { "X-Square-HmacSha256-Signature", NULL, NULL },
                         { "X-Square-Signature", NULL, NULL } },
        [CLI_STANDARD] = { { "webhook-id", "webhook-timestamp",
                             "webhook-signature" },
                           { "svix-id", "svix-timestamp",
                             "svix-signature" } }
    };

    memset(keys, 0, sizeof(keys));
    n = 0;
    digest = PAY_DIGEST_SHA256;

    for (k = 0; k < 2; k++) {
        memset(v, 0, sizeof(v));
        memset(len, 0, sizeof(len));

        if (names[conf->provider][k][0] == NULL
            || (k == 1 && conf->provider == CLI_SQUARE
                && !conf->square_sha1))
        {
            break;
        }

        for (i = 0; i < 3 && names[conf->provider][k][i] != NULL; i++) {
            v[i] = cli_request_header(r, names[conf->provider][k][i],
                                      &len[i], &rep[i]);
            if (v[i] != NULL && rep[i]) {
                *detail = "a signature header is repeated";
                return PAY_ERR_SIGNATURE_MALFORMED;
            }
        }

        if (v[0] != NULL || v[1] != NULL || v[2] != NULL) {
            digest = (k == 1 && conf->provider == CLI_SQUARE)
                     ? PAY_DIGEST_SHA1 : PAY_DIGEST_SHA256;
            break;
        }
    }

    rc = PAY_ERR_INTERNAL;
    *detail = "the signature could not be computed";

    for (n = 0; n < conf->nsecrets; n++) {
        if (conf->provider == CLI_STANDARD) {
            if (pay_standard_secret_decode(conf->secrets[n],
                                           conf->secret_len[n], key,
                                           sizeof(key), &klen)
                != 0)
            {
                *detail = "a --secret is not a Standard Webhooks secret "
                          "(whsec_ and base64)";
                goto done;
            }

            keys[n] = pay_hmac_key_new(key, klen, PAY_DIGEST_SHA256);
            OPENSSL_cleanse(key, sizeof(key));

        } else {
            keys[n] = pay_hmac_key_new(
                          (const unsigned char *) conf->secrets[n],
                          conf->secret_len[n], digest);
        }

        if (keys[n] == NULL) {
            goto done;
        }
    }

    switch (conf->provider) {

    case CLI_STRIPE:
        rc = (v[0] == NULL) ? PAY_ERR_SIGNATURE_MISSING
             : pay_stripe_verify(v[0], len[0], r->body.data, r->body.len,
                                 keys, n, conf->now, conf->tolerance);
        break;

    case CLI_SQUARE:
        rc = pay_square_verify(v[0], len[0],
                               (const unsigned char *) conf->url,
                               strlen(conf->url), r->body.data, r->body.len,
                               keys, n);
        break;

    default:
        rc = pay_standard_verify(v[0], len[0], v[1], len[1], v[2], len[2],
                                 r->body.data, r->body.len, keys, n,
                                 conf->now, conf->tolerance);
        break;
    }

    switch (rc) {
    case PAY_OK:
        break;
    case PAY_ERR_SIGNATURE_MISSING:
        *detail = conf->provider == CLI_STRIPE
                  ? "no Stripe-Signature header, or no v1 in it"
                  : conf->provider == CLI_SQUARE
                  ? (conf->square_sha1
                     ? "no x-square-hmacsha256-signature header, nor "
                       "x-square-signature"
                     : "no x-square-hmacsha256-signature header")
                  : "a webhook-id, -timestamp or -signature header (or "
                    "svix-...) is missing, or no v1 signature";
        goto done;
    case PAY_ERR_SIGNATURE_MALFORMED:
        *detail = "the signature header is not well-formed";
        goto done;
    case PAY_ERR_SIGNATURE_MISMATCH:
        *detail = conf->provider == CLI_SQUARE
                  ? "no given secret signs the notification URL and this "
                    "body (is --notification-url exactly the subscription's?)"
                  : "no given secret signs this body";
        goto done;
    case PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE:
        *detail = "the signed timestamp is outside --tolerance of --now";
        goto done;
    default:
        goto done;
    }

    *detail = "the signed body is not an event object of this provider";

    rc = conf->provider == CLI_STRIPE
         ? pay_event_parse_stripe(r->body.data, r->body.len, ev)
         : conf->provider == CLI_SQUARE
         ? pay_event_parse_square(r->body.data, r->body.len, ev)
         : pay_event_parse_standard(r->body.data, r->body.len, v[0], len[0],
                                    ev);

    if (rc == PAY_OK && conf->provider == CLI_SQUARE && conf->window) {
        if (pay_square_created_at(r->body.data, r->body.len, &created)
            != PAY_OK)
        {
            *detail = "created_at is missing or not an RFC 3339 date-time";
            rc = PAY_ERR_BODY_MALFORMED;

        } else {
            rc = pay_timestamp_check(created, conf->now, conf->window);
            *detail = "created_at is outside --window of --now";
        }
    }

done:

    for (i = 0; i < CLI_KEYS_MAX; i++) {
        pay_hmac_key_free(keys[i]);
    }

    return rc;
}


/* PayPal offline: the headers, the certificate, the signature, the body */

static pay_rc_e
cli_verify_paypal(const cli_verify_conf_t *conf, const cli_request_t *r,
    pay_event_t *ev, const char **detail)
{
    int                    rep, one;
    char                   msg[PAY_PAYPAL_MESSAGE_MAX];
    size_t                 i, sig_len, der_len, path_len, msg_len;
    size_t                 host_lens[CLI_HOSTS_MAX];
    pay_rc_e               rc;
    long long              not_after;
    cli_buf_t              pem;
    const char            *path, *reason;
    unsigned char         *der, sig[PAY_PAYPAL_SIG_MAX];
    pay_paypal_trust_t    *trust;
    pay_paypal_headers_t   h;

    memset(&h, 0, sizeof(h));
    rep = 0;

#define cli_paypal_header(field, name)                                        \
    h.field = cli_request_header(r, name, &h.field##_len, &one);              \
    rep |= (h.field != NULL && one)

    cli_paypal_header(id, "PAYPAL-TRANSMISSION-ID");
    cli_paypal_header(time, "PAYPAL-TRANSMISSION-TIME");
    cli_paypal_header(sig, "PAYPAL-TRANSMISSION-SIG");
    cli_paypal_header(cert_url, "PAYPAL-CERT-URL");
    cli_paypal_header(algo, "PAYPAL-AUTH-ALGO");

#undef cli_paypal_header

    if (rep) {
        *detail = "a PAYPAL-* header is repeated";
        return PAY_ERR_SIGNATURE_MALFORMED;
    }

    for (i = 0; i < conf->nhosts; i++) {
        host_lens[i] = strlen(conf->hosts[i]);
    }

    rc = pay_paypal_check_headers(&h, conf->hosts, host_lens, conf->nhosts,
                                  conf->now, conf->tolerance, sig, &sig_len,
                                  &path, &path_len);

    switch (rc) {
    case PAY_OK:
        break;
    case PAY_ERR_SIGNATURE_MISSING:
        *detail = "a PAYPAL-* header is missing or empty";
        return rc;
    case PAY_ERR_SIGNATURE_MALFORMED:
        *detail = "a PAYPAL-* header is not well-formed";
        return rc;
    case PAY_ERR_TIMESTAMP_OUT_OF_TOLERANCE:
        *detail = "PAYPAL-TRANSMISSION-TIME is outside --tolerance of --now";
        return rc;
    case PAY_ERR_CERT_URL_REJECTED:
        *detail = "PAYPAL-CERT-URL is not a certificate URL on an allowed "
                  "host (--cert-host)";
        return rc;
    default:
        *detail = "the headers could not be checked";
        return rc;
    }

    if (cli_read_file(conf->cert, &pem) != 0) {
        *detail = "--cert could not be read";
        return PAY_ERR_INTERNAL;
    }

    trust = pay_paypal_trust_new(conf->ca);
    if (trust == NULL) {
        cli_buf_free(&pem);
        *detail = "--ca could not be loaded as PEM certificates";
        return PAY_ERR_INTERNAL;
    }

    der = NULL;
    reason = "internal";

    rc = pay_paypal_cert_validate(trust, pem.data, pem.len, conf->now, &der,
                                  &der_len, &not_after, &reason);

    pay_paypal_trust_free(trust);
    cli_buf_free(&pem);

    if (rc != PAY_OK) {
        *detail = reason;
        return rc;
    }

    msg_len = pay_paypal_message(&h, conf->webhook_id,
                                 strlen(conf->webhook_id),
                                 pay_crc32_update(0, r->body.data,
                                                  r->body.len),
                                 msg, sizeof(msg));

    rc = msg_len == 0 ? PAY_ERR_INTERNAL
         : pay_paypal_verify_signature(der, der_len,
                                       (const unsigned char *) msg, msg_len,
                                       sig, sig_len);
    pay_paypal_free(der);

    if (rc != PAY_OK) {
        *detail = rc == PAY_ERR_SIGNATURE_MISMATCH
                  ? "the certificate's key did not sign this transmission, "
                    "--webhook-id and this body"
                  : "the signature could not be checked";
        return rc;
    }

    *detail = "the signed body is not a PayPal event object";

    return pay_event_parse_paypal(r->body.data, r->body.len, ev);
}


/* Unix seconds, or an RFC 3339 date-time (core's parser) */

static int
cli_parse_time(const char *s, long long *t)
{
    if (cli_parse_number(s, 0, 99999999999LL, t) == 0) {
        return 0;
    }

    return pay_timestamp_rfc3339(s, strlen(s), t);
}
