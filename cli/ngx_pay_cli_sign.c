
/*
 * Copyright (C) ngx_pay authors
 *
 * The headers a provider sends with a body, made by core's signers
 * (pay_stripe_sign(), pay_square_sign(), pay_standard_sign()) and, for
 * PayPal, an RSA signature with OpenSSL over the message core composes
 * (pay_paypal_message(), pay_crc32_update()): core only verifies PayPal.
 * And `ngx-pay sign`.
 */


#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ngx_pay_cli.h"
#include "pay_base64.h"
#include "pay_crc32.h"
#include "pay_hmac.h"
#include "pay_paypal.h"
#include "pay_square.h"
#include "pay_standard.h"
#include "pay_stripe.h"


static int cli_header_add(cli_headers_t *h, const char *name,
    const char *value);
static int cli_sign_paypal(const cli_sign_t *s, const unsigned char *body,
    size_t len, cli_headers_t *out);
static int cli_paypal_rsa(const char *key_file, const char *msg, size_t len,
    char *out, size_t size);


static const char  cli_sign_usage[] =
    "usage: ngx-pay sign PROVIDER [options] < body\n"
    "\n"
    "Prints the headers PROVIDER sends with the body on stdin, one\n"
    "\"Name: value\" a line.\n"
    "\n"
    "  stripe    --secret whsec_...            Stripe-Signature\n"
    "  square    --secret KEY --notification-url URL\n"
    "                                          x-square-hmacsha256-signature\n"
    "  standard  --secret whsec_... [--id ID]  webhook-id, -timestamp,\n"
    "                                          -signature\n"
    "  paypal    --key FILE --cert-url URL --webhook-id ID [--id ID]\n"
    "                                          the five PAYPAL-* headers\n"
    "\n"
    "  --secret S            the signing secret: a value, env:NAME or\n"
    "                        file:PATH (never printed)\n"
    "  --notification-url U  square: the URL the subscription names\n"
    "  --id ID               standard: webhook-id; paypal: the\n"
    "                        transmission id (default: a random one)\n"
    "  --timestamp T         the signing time, Unix seconds (default: now)\n"
    "  --key FILE            paypal: the PEM private key that signs\n"
    "  --cert-url URL        paypal: paypal-cert-url, where its\n"
    "                        certificate is\n"
    "  --webhook-id ID       paypal: the webhook id signed (value, env:,\n"
    "                        file:)\n";


void
cli_headers_free(cli_headers_t *h)
{
    size_t  i;

    for (i = 0; i < h->n; i++) {
        free(h->value[i]);
    }

    h->n = 0;
}


static int
cli_header_add(cli_headers_t *h, const char *name, const char *value)
{
    if (h->n == CLI_HEADERS_MAX) {
        return -1;
    }

    h->value[h->n] = strdup(value);
    if (h->value[h->n] == NULL) {
        return -1;
    }

    h->name[h->n] = (char *) name;
    h->n++;

    return 0;
}


/*
 * The signature headers for body; 0, or -1 after one line saying what is
 * missing or wrong.
 */

int
cli_sign_headers(const cli_sign_t *s, const unsigned char *body, size_t len,
    cli_headers_t *out)
{
    int              rc;
    char             sig[PAY_STRIPE_SIGN_MAX + PAY_SQUARE_SIGN_MAX
                         + PAY_STANDARD_SIGN_MAX];
    char             ts[24], id[40];
    size_t           key_len;
    const char      *idp;
    unsigned char    key[CLI_SECRET_MAX];
    pay_hmac_key_t  *hk;

    out->n = 0;

    if (s->provider == CLI_PAYPAL) {
        return cli_sign_paypal(s, body, len, out);
    }

    if (s->secret.data == NULL) {
        cli_error("--secret is missing (the endpoint's signing secret: a "
                  "value, env:NAME or file:PATH)");
        return -1;
    }

    hk = NULL;
    rc = -1;

    switch (s->provider) {

    case CLI_STRIPE:
        hk = pay_hmac_key_new(s->secret.data, s->secret.len,
                              PAY_DIGEST_SHA256);
        if (hk == NULL
            || pay_stripe_sign(hk, s->t, body, len, sig, sizeof(sig)) == 0)
        {
            cli_error("stripe: the signature could not be computed");
            break;
        }

        rc = cli_header_add(out, "Stripe-Signature", sig);
        if (rc != 0) {
            cli_error("out of memory");
        }
        break;

    case CLI_SQUARE:
        if (s->url == NULL || s->url[0] == '\0') {
            cli_error("--notification-url is missing (Square signs the "
                      "URL the subscription names)");
            break;
        }

        hk = pay_hmac_key_new(s->secret.data, s->secret.len,
                              PAY_DIGEST_SHA256);
        if (hk == NULL
            || pay_square_sign(hk, (const unsigned char *) s->url,
                               strlen(s->url), body, len, sig, sizeof(sig))
               == 0)
        {
            cli_error("square: the signature could not be computed");
            break;
        }

        rc = cli_header_add(out, "x-square-hmacsha256-signature", sig);
        if (rc != 0) {
            cli_error("out of memory");
        }
        break;

    default: /* CLI_STANDARD */
        if (pay_standard_secret_decode((const char *) s->secret.data,
                                       s->secret.len, key, sizeof(key),
                                       &key_len)
            != 0)
        {
            cli_error("--secret is not a Standard Webhooks secret "
                      "(whsec_ and base64)");
            break;
        }

        hk = pay_hmac_key_new(key, key_len, PAY_DIGEST_SHA256);
        OPENSSL_cleanse(key, sizeof(key));

        idp = s->id;
        if (idp == NULL) {
            memcpy(id, "msg_", 4);
            cli_random_hex(id + 4, 24);
            idp = id;
        }

        snprintf(ts, sizeof(ts), "%lld", s->t);

        if (hk == NULL
            || pay_standard_sign(hk, idp, strlen(idp), ts, strlen(ts),
                                 body, len, sig, sizeof(sig))
               == 0)
        {
            cli_error("standard: the signature could not be computed "
                      "(an id of 1..255 visible ASCII bytes?)");
            break;
        }

        if (cli_header_add(out, "webhook-id", idp) != 0
            || cli_header_add(out, "webhook-timestamp", ts) != 0
            || cli_header_add(out, "webhook-signature", sig) != 0)
        {
            cli_error("out of memory");
            break;
        }

        rc = 0;
        break;
    }

    pay_hmac_key_free(hk);

    if (rc != 0) {
        cli_headers_free(out);
    }

    return rc;
}


static int
cli_sign_paypal(const cli_sign_t *s, const unsigned char *body, size_t len,
    cli_headers_t *out)
{
    char                  tid[PAY_PAYPAL_ID_MAX + 1], hex[33], when[32];
    char                  msg[PAY_PAYPAL_MESSAGE_MAX];
    char                  sig[pay_base64_encoded_len(PAY_PAYPAL_SIG_MAX) + 1];
    size_t                n;
    pay_paypal_headers_t  h;

    if (s->key_file == NULL) {
        cli_error("--key is missing (the PEM private key that signs)");
        return -1;
    }

    if (s->cert_url == NULL) {
        cli_error("--cert-url is missing (where the certificate of --key "
                  "is served)");
        return -1;
    }

    if (s->webhook_id == NULL || s->webhook_id[0] == '\0') {
        cli_error("--webhook-id is missing (the webhook id PayPal signs)");
        return -1;
    }

    if (s->id != NULL) {
        if (strlen(s->id) > PAY_PAYPAL_ID_MAX) {
            cli_error("--id: a transmission id has at most %d bytes",
                      PAY_PAYPAL_ID_MAX);
            return -1;
        }

        snprintf(tid, sizeof(tid), "%s", s->id);

    } else {
        /* as PayPal's look: 8ad71ae0-4e5e-11ef-b16d-8fad525a7f7b */
        cli_random_hex(hex, 32);
        snprintf(tid, sizeof(tid), "%.8s-%.4s-%.4s-%.4s-%.12s", hex,
                 hex + 8, hex + 12, hex + 16, hex + 20);
    }

    cli_rfc3339(s->t, when, sizeof(when));

    memset(&h, 0, sizeof(h));
    h.id = tid;
    h.id_len = strlen(tid);
    h.time = when;
    h.time_len = strlen(when);

    n = pay_paypal_message(&h, s->webhook_id, strlen(s->webhook_id),
                           pay_crc32_update(0, body, len), msg, sizeof(msg));
    if (n == 0) {
        cli_error("paypal: the message to sign does not fit (a webhook id "
                  "of at most %d bytes)", PAY_PAYPAL_WEBHOOK_ID_MAX);
        return -1;
    }

    if (cli_paypal_rsa(s->key_file, msg, n, sig, sizeof(sig)) != 0) {
        return -1;
    }

    if (cli_header_add(out, "PAYPAL-TRANSMISSION-ID", tid) != 0
        || cli_header_add(out, "PAYPAL-TRANSMISSION-TIME", when) != 0
        || cli_header_add(out, "PAYPAL-TRANSMISSION-SIG", sig) != 0
        || cli_header_add(out, "PAYPAL-CERT-URL", s->cert_url) != 0
        || cli_header_add(out, "PAYPAL-AUTH-ALGO", "SHA256withRSA") != 0)
    {
        cli_error("out of memory");
        cli_headers_free(out);
        return -1;
    }

    return 0;
}


/* SHA256withRSA (PKCS#1 v1.5) of msg with the key in key_file, base64 */

static int
cli_paypal_rsa(const char *key_file, const char *msg, size_t len, char *out,
    size_t size)
{
    int             rc;
    BIO            *bio;
    size_t          sig_len;
    EVP_PKEY       *pkey;
    EVP_MD_CTX     *md;
    unsigned char   sig[PAY_PAYPAL_SIG_MAX];

    rc = -1;
    pkey = NULL;
    md = NULL;

    bio = BIO_new_file(key_file, "r");
    if (bio == NULL) {
        cli_error("--key: cannot open \"%s\"", key_file);
        goto done;
    }

    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    if (pkey == NULL || EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA) {
        cli_error("--key: \"%s\" is not a PEM RSA private key", key_file);
        goto done;
    }

    sig_len = sizeof(sig);
    md = EVP_MD_CTX_new();

    if (md == NULL
        || (size_t) EVP_PKEY_get_size(pkey) > sizeof(sig)
        || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1
        || EVP_DigestSign(md, sig, &sig_len, (const unsigned char *) msg,
                          len) != 1
        || pay_base64_encoded_len(sig_len) + 1 > size)
    {
        cli_error("--key: the signature could not be computed");
        goto done;
    }

    pay_base64_encode(sig, sig_len, out);
    out[pay_base64_encoded_len(sig_len)] = '\0';
    rc = 0;

done:

    ERR_clear_error();
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    BIO_free(bio);

    return rc;
}


int
cli_sign(int argc, char **argv)
{
    int              c, rc;
    size_t           i;
    cli_buf_t        body;
    cli_sign_t       s;
    const char      *secret, *webhook_id;
    cli_buf_t        wid;
    cli_headers_t    h;

    static const struct option  options[] = {
        { "secret", required_argument, NULL, 's' },
        { "notification-url", required_argument, NULL, 'u' },
        { "id", required_argument, NULL, 'i' },
        { "timestamp", required_argument, NULL, 't' },
        { "key", required_argument, NULL, 'k' },
        { "cert-url", required_argument, NULL, 'c' },
        { "webhook-id", required_argument, NULL, 'w' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&s, 0, sizeof(s));
    memset(&wid, 0, sizeof(wid));
    s.t = (long long) time(NULL);
    secret = NULL;
    webhook_id = NULL;

    opterr = 0;
    optind = 1;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 's':
            secret = optarg;
            break;
        case 'u':
            s.url = optarg;
            break;
        case 'i':
            s.id = optarg;
            break;
        case 't':
            if (cli_parse_number(optarg, 0, 99999999999LL, &s.t) != 0) {
                cli_error("--timestamp \"%s\" is not a Unix time", optarg);
                return CLI_USAGE;
            }
            break;
        case 'k':
            s.key_file = optarg;
            break;
        case 'c':
            s.cert_url = optarg;
            break;
        case 'w':
            webhook_id = optarg;
            break;
        case 'h':
            fputs(cli_sign_usage, stdout);
            return CLI_OK;
        default:
            return cli_option_error(c, argv);
        }
    }

    if (cli_provider_arg(argc, argv, &s.provider) != 0) {
        return CLI_USAGE;
    }

    if (s.provider != CLI_PAYPAL) {
        if (cli_secret_load("--secret", secret, &s.secret) != 0) {
            return CLI_USAGE;
        }

    } else if (webhook_id != NULL) {
        if (cli_secret_load("--webhook-id", webhook_id, &wid) != 0) {
            return CLI_USAGE;
        }
        s.webhook_id = (const char *) wid.data;
    }

    if (cli_read_stream(stdin, "the body on stdin", &body) != 0) {
        cli_buf_wipe(&s.secret);
        cli_buf_free(&wid);
        return CLI_USAGE;
    }

    rc = CLI_USAGE;

    /* the module refuses any other body (body_malformed): say so now */
    if (!cli_json_object(body.data, body.len)) {
        cli_error("the body on stdin is not a JSON object");

    } else if (cli_sign_headers(&s, body.data, body.len, &h) == 0) {
        for (i = 0; i < h.n; i++) {
            printf("%s: %s\n", h.name[i], h.value[i]);
        }
        cli_headers_free(&h);
        rc = CLI_OK;
    }

    cli_buf_free(&body);
    cli_buf_wipe(&s.secret);
    cli_buf_free(&wid);

    return rc;
}
