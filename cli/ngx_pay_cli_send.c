
/*
 * Copyright (C) ngx_pay authors
 *
 * `ngx-pay send`: a realistic event of a given type (or a body from a
 * file), signed as its provider signs (ngx_pay_cli_sign.c, core's
 * signers), POSTed with libcurl; provider-style retries (--repeat,
 * --same-id) and the forgeries an operator wants to see refused
 * (--tamper, --stale).  docs/cli.md#send.
 */


#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ngx_pay_cli.h"


#define CLI_STALE  (8 * 86400)      /* --stale: 8 days, past any window */
#define CLI_REPEAT_MAX  1000


typedef struct {
    cli_provider_e  provider;
    const char     *type;
    const char     *fmt;    /* cli_event_body()'s placeholders */
} cli_event_t;


static char *cli_event_body(const cli_event_t *ev, const char *type,
    const char *id, long long t);
static const cli_event_t *cli_event_find(cli_provider_e provider,
    const char *type);
static void cli_event_id(cli_provider_e provider, char *out, size_t size);
static int cli_body_id(cli_provider_e provider, const cli_buf_t *body,
    char *out, size_t size);
static void cli_tamper(unsigned char *body, size_t len);
static int cli_type_ok(const char *type);


static const char  cli_send_usage[] =
    "usage: ngx-pay send PROVIDER --url URL [--event TYPE | --body FILE]\n"
    "                    [--secret S] [options]\n"
    "\n"
    "Signs a delivery as PROVIDER does and POSTs it to URL; prints, per\n"
    "delivery, \"STATUS OUTCOME EVENT-ID\" (OUTCOME: delivered, duplicate,\n"
    "or the module's error code).\n"
    "\n"
    "  --url URL             where to POST (the nginx location)\n"
    "  --event TYPE          a realistic event of TYPE (default: the first\n"
    "                        below):\n"
    "                          stripe   payment_intent.succeeded,\n"
    "                                   charge.refunded,\n"
    "                                   charge.dispute.created\n"
    "                          square   payment.updated, refund.updated\n"
    "                          paypal   PAYMENT.CAPTURE.COMPLETED,\n"
    "                                   PAYMENT.CAPTURE.REFUNDED\n"
    "                          standard any type (payment.succeeded)\n"
    "  --body FILE           this JSON object instead (- for stdin)\n"
    "  --id ID               the event id (default: a random one)\n"
    "  --secret S            the signing secret: a value, env:NAME or\n"
    "                        file:PATH (never printed)\n"
    "  --notification-url U  square: the URL signed (default: --url)\n"
    "  --key FILE, --cert-url URL, --webhook-id ID\n"
    "                        paypal: as for ngx-pay sign\n"
    "  --repeat N            N deliveries, each signed anew; each a new\n"
    "                        event unless --same-id\n"
    "  --same-id             the same event, the same bytes every time: a\n"
    "                        provider's retries (the module answers\n"
    "                        duplicate)\n"
    "  --tamper              change one byte of the body after signing\n"
    "  --stale               sign with a time 8 days old (Square: the\n"
    "                        event's created_at, so not with --body)\n"
    "  -i, --include         print each answer (status line, headers, body)\n"
    "                        instead of the summary line\n"
    "  --timeout SECONDS     per request (default 30)\n"
    "\n"
    "Exit status: 0 every delivery was accepted (2xx), or every one was\n"
    "refused with signature_mismatch (--tamper) or\n"
    "timestamp_out_of_tolerance (--stale); 1 otherwise or unreachable;\n"
    "2 bad input.\n";


/* the bodies: one line each, as providers send them */

static const cli_event_t  cli_events[] = {

    { CLI_STRIPE, "payment_intent.succeeded",
      "{\"id\":\"%1$s\",\"object\":\"event\",\"api_version\":\"2024-06-20\","
      "\"created\":%3$lld,\"data\":{\"object\":{\"id\":\"pi_%4$s\","
      "\"object\":\"payment_intent\",\"amount\":2000,"
      "\"amount_received\":2000,\"currency\":\"usd\","
      "\"latest_charge\":\"ch_%4$s\",\"livemode\":false,\"metadata\":{},"
      "\"status\":\"succeeded\"}},\"livemode\":false,"
      "\"pending_webhooks\":1,\"request\":{\"id\":null,"
      "\"idempotency_key\":null},\"type\":\"payment_intent.succeeded\"}" },

    { CLI_STRIPE, "charge.refunded",
      "{\"id\":\"%1$s\",\"object\":\"event\",\"api_version\":\"2024-06-20\","
      "\"created\":%3$lld,\"data\":{\"object\":{\"id\":\"ch_%4$s\","
      "\"object\":\"charge\",\"amount\":2000,\"amount_captured\":2000,"
      "\"amount_refunded\":2000,\"currency\":\"usd\",\"livemode\":false,"
      "\"paid\":true,\"payment_intent\":\"pi_%4$s\",\"refunded\":true,"
      "\"status\":\"succeeded\"}},\"livemode\":false,"
      "\"pending_webhooks\":1,\"request\":{\"id\":null,"
      "\"idempotency_key\":null},\"type\":\"charge.refunded\"}" },

    { CLI_STRIPE, "charge.dispute.created",
      "{\"id\":\"%1$s\",\"object\":\"event\",\"api_version\":\"2024-06-20\","
      "\"created\":%3$lld,\"data\":{\"object\":{\"id\":\"du_%4$s\","
      "\"object\":\"dispute\",\"amount\":2000,\"charge\":\"ch_%4$s\","
      "\"currency\":\"usd\",\"livemode\":false,"
      "\"payment_intent\":\"pi_%4$s\",\"reason\":\"fraudulent\","
      "\"status\":\"needs_response\"}},\"livemode\":false,"
      "\"pending_webhooks\":1,\"request\":{\"id\":null,"
      "\"idempotency_key\":null},\"type\":\"charge.dispute.created\"}" },

    { CLI_SQUARE, "payment.updated",
      "{\"merchant_id\":\"MLNGXPAYDEMO1\",\"type\":\"payment.updated\","
      "\"event_id\":\"%1$s\",\"created_at\":\"%2$s\",\"data\":{"
      "\"type\":\"payment\",\"id\":\"%4$s\",\"object\":{\"payment\":{"
      "\"id\":\"%4$s\",\"amount_money\":{\"amount\":2000,"
      "\"currency\":\"USD\"},\"created_at\":\"%2$s\","
      "\"location_id\":\"LNGXPAYDEMO1\",\"order_id\":\"o%4$s\","
      "\"source_type\":\"CARD\",\"status\":\"COMPLETED\","
      "\"updated_at\":\"%2$s\",\"version\":3}}}}" },

    { CLI_SQUARE, "refund.updated",
      "{\"merchant_id\":\"MLNGXPAYDEMO1\",\"type\":\"refund.updated\","
      "\"event_id\":\"%1$s\",\"created_at\":\"%2$s\",\"data\":{"
      "\"type\":\"refund\",\"id\":\"%4$s\",\"object\":{\"refund\":{"
      "\"id\":\"%4$s\",\"amount_money\":{\"amount\":2000,"
      "\"currency\":\"USD\"},\"created_at\":\"%2$s\","
      "\"location_id\":\"LNGXPAYDEMO1\",\"payment_id\":\"p%4$s\","
      "\"status\":\"COMPLETED\",\"updated_at\":\"%2$s\"}}}}" },

    { CLI_PAYPAL, "PAYMENT.CAPTURE.COMPLETED",
      "{\"id\":\"%1$s\",\"event_version\":\"1.0\",\"create_time\":\"%2$s\","
      "\"resource_type\":\"capture\",\"resource_version\":\"2.0\","
      "\"event_type\":\"PAYMENT.CAPTURE.COMPLETED\","
      "\"summary\":\"Payment completed for $ 20.0 USD\",\"resource\":{"
      "\"id\":\"%4$s\",\"status\":\"COMPLETED\",\"amount\":{"
      "\"currency_code\":\"USD\",\"value\":\"20.00\"},"
      "\"final_capture\":true,\"create_time\":\"%2$s\","
      "\"update_time\":\"%2$s\"},\"links\":[]}" },

    { CLI_PAYPAL, "PAYMENT.CAPTURE.REFUNDED",
      "{\"id\":\"%1$s\",\"event_version\":\"1.0\",\"create_time\":\"%2$s\","
      "\"resource_type\":\"refund\",\"resource_version\":\"2.0\","
      "\"event_type\":\"PAYMENT.CAPTURE.REFUNDED\","
      "\"summary\":\"A $ 20.0 USD capture payment was refunded\","
      "\"resource\":{\"id\":\"%4$s\",\"status\":\"COMPLETED\","
      "\"amount\":{\"currency_code\":\"USD\",\"value\":\"20.00\"},"
      "\"create_time\":\"%2$s\",\"update_time\":\"%2$s\"},\"links\":[]}" },

    /* Standard Webhooks: the type is the caller's (%5$s) */
    { CLI_STANDARD, NULL,
      "{\"type\":\"%5$s\",\"timestamp\":\"%2$s\",\"data\":{"
      "\"id\":\"obj_%4$s\",\"amount\":2000,\"currency\":\"usd\","
      "\"status\":\"succeeded\",\"created\":%3$lld}}" }
};


int
cli_send(int argc, char **argv)
{
    int               c, rc, refused, failed;
    char              id[64], code[64];
    const char       *url, *type, *body_file, *secret, *fixed_id, *outcome;
    const char       *webhook_id;
    long long         repeat, i, timeout, now;
    cli_buf_t         body, wid, sent;
    cli_sign_t        s;
    cli_headers_t     h;
    cli_response_t    res;
    const cli_event_t *ev;
    int               same_id, tamper, stale, include;

    static const struct option  options[] = {
        { "url", required_argument, NULL, 'U' },
        { "event", required_argument, NULL, 'e' },
        { "body", required_argument, NULL, 'b' },
        { "id", required_argument, NULL, 'I' },
        { "secret", required_argument, NULL, 's' },
        { "notification-url", required_argument, NULL, 'u' },
        { "key", required_argument, NULL, 'k' },
        { "cert-url", required_argument, NULL, 'c' },
        { "webhook-id", required_argument, NULL, 'w' },
        { "repeat", required_argument, NULL, 'r' },
        { "same-id", no_argument, NULL, 'S' },
        { "tamper", no_argument, NULL, 'T' },
        { "stale", no_argument, NULL, 'O' },
        { "include", no_argument, NULL, 'i' },
        { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&s, 0, sizeof(s));
    memset(&body, 0, sizeof(body));
    memset(&wid, 0, sizeof(wid));
    url = NULL;
    type = NULL;
    body_file = NULL;
    secret = NULL;
    fixed_id = NULL;
    webhook_id = NULL;
    repeat = 1;
    timeout = 30;
    same_id = 0;
    tamper = 0;
    stale = 0;
    include = 0;

    opterr = 0;
    optind = 1;

    while ((c = getopt_long(argc, argv, ":hi", options, NULL)) != -1) {
        switch (c) {
        case 'U':
            url = optarg;
            break;
        case 'e':
            type = optarg;
            break;
        case 'b':
            body_file = optarg;
            break;
        case 'I':
            fixed_id = optarg;
            break;
        case 's':
            secret = optarg;
            break;
        case 'u':
            s.url = optarg;
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
        case 'r':
            if (cli_parse_number(optarg, 1, CLI_REPEAT_MAX, &repeat) != 0) {
                cli_error("--repeat \"%s\" is not a number from 1 to %d",
                          optarg, CLI_REPEAT_MAX);
                return CLI_USAGE;
            }
            break;
        case 'S':
            same_id = 1;
            break;
        case 'T':
            tamper = 1;
            break;
        case 'O':
            stale = 1;
            break;
        case 'i':
            include = 1;
            break;
        case 't':
            if (cli_parse_number(optarg, 1, 3600, &timeout) != 0) {
                cli_error("--timeout \"%s\" is not 1 to 3600 seconds",
                          optarg);
                return CLI_USAGE;
            }
            break;
        case 'h':
            fputs(cli_send_usage, stdout);
            return CLI_OK;
        default:
            return cli_option_error(c, argv);
        }
    }

    if (cli_provider_arg(argc, argv, &s.provider) != 0) {
        return CLI_USAGE;
    }

    if (url == NULL) {
        cli_error("--url is missing (where to POST the delivery)");
        return CLI_USAGE;
    }

    if (type != NULL && body_file != NULL) {
        cli_error("--event and --body cannot both be given");
        return CLI_USAGE;
    }

    if (tamper && stale) {
        cli_error("--tamper and --stale cannot both be given: each "
                  "expects its own refusal");
        return CLI_USAGE;
    }

    if (stale && s.provider == CLI_SQUARE && body_file != NULL) {
        /* Square signs no time: its time is the body's created_at */
        cli_error("square: --stale needs --event: Square's time is the "
                  "body's created_at, which ngx-pay does not change in a "
                  "--body");
        return CLI_USAGE;
    }

    ev = NULL;

    if (body_file == NULL) {
        ev = cli_event_find(s.provider, type);
        if (ev == NULL) {
            cli_error("%s: unknown --event \"%s\" (ngx-pay send --help "
                      "lists the types)", cli_provider_name(s.provider),
                      type);
            return CLI_USAGE;
        }

        if (s.provider == CLI_STANDARD && type != NULL
            && !cli_type_ok(type))
        {
            cli_error("standard: --event \"%s\" is not 1..64 of "
                      "[A-Za-z0-9._-]", type);
            return CLI_USAGE;
        }
    }

    if (fixed_id != NULL && (strlen(fixed_id) >= sizeof(id) - 1
                             || !cli_type_ok(fixed_id)))
    {
        cli_error("--id \"%s\" is not 1..62 of [A-Za-z0-9._-]", fixed_id);
        return CLI_USAGE;
    }

    if (s.provider == CLI_SQUARE && s.url == NULL) {
        s.url = url;
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

    rc = CLI_USAGE;

    if (body_file != NULL) {
        if ((strcmp(body_file, "-") == 0
             ? cli_read_stream(stdin, "the body on stdin", &body)
             : cli_read_file(body_file, &body))
            != 0)
        {
            goto done;
        }

        if (!cli_json_object(body.data, body.len)) {
            cli_error("the body in \"%s\" is not a JSON object",
                      strcmp(body_file, "-") == 0 ? "stdin" : body_file);
            goto done;
        }
    }

    refused = 0;
    failed = 0;
    id[0] = '\0';

    for (i = 0; i < repeat; i++) {

        now = (long long) time(NULL);
        s.t = stale ? now - CLI_STALE : now;

        if (fixed_id != NULL) {
            snprintf(id, sizeof(id), "%s", fixed_id);

        } else if (i == 0 || !same_id) {
            cli_event_id(s.provider, id, sizeof(id));
        }

        /* --same-id: a provider's retries, the same bytes every time */
        if (ev != NULL && (i == 0 || !same_id)) {
            cli_buf_free(&body);
            body.data = (unsigned char *) cli_event_body(ev, type, id, s.t);
            if (body.data == NULL) {
                cli_error("out of memory");
                goto done;
            }
            body.len = strlen((char *) body.data);

        } else if (s.provider != CLI_STANDARD
                   && cli_body_id(s.provider, &body, id, sizeof(id)) != 0)
        {
            snprintf(id, sizeof(id), "-");
        }

        /* Standard Webhooks: the event id travels as webhook-id */
        s.id = (s.provider == CLI_STANDARD) ? id : NULL;

        if (cli_sign_headers(&s, body.data, body.len, &h) != 0) {
            goto done;
        }

        sent = body;

        if (tamper) {
            sent.data = malloc(body.len + 1);
            if (sent.data == NULL) {
                cli_headers_free(&h);
                cli_error("out of memory");
                goto done;
            }
            memcpy(sent.data, body.data, body.len + 1);
            cli_tamper(sent.data, sent.len);
        }

        c = cli_http("POST", url, NULL, &h, sent.data, sent.len, timeout,
                     &res);

        cli_headers_free(&h);
        if (tamper) {
            free(sent.data);
        }

        if (c != 0) {
            rc = CLI_FAIL;
            goto done;
        }

        outcome = cli_response_outcome(&res, code, sizeof(code));

        if (include) {
            fwrite(res.head.data, 1, res.head.len, stdout);
            fwrite(res.body.data, 1, res.body.len, stdout);
            if (res.body.len && res.body.data[res.body.len - 1] != '\n') {
                fputc('\n', stdout);
            }

        } else {
            printf("%ld %s %s\n", res.status, outcome, id);
        }

        fflush(stdout);

        if (tamper || stale) {
            /* refused, and for the forgery's reason */
            if (strcmp(outcome, tamper ? "signature_mismatch"
                                       : "timestamp_out_of_tolerance")
                == 0)
            {
                refused++;
            }

        } else if (res.status >= 400 && res.status < 500) {
            refused++;

        } else if (res.status < 200 || res.status >= 300) {
            failed++;
        }

        cli_response_free(&res);
    }

    if (tamper || stale) {
        rc = (refused == repeat) ? CLI_OK : CLI_FAIL;
        if (rc != CLI_OK) {
            cli_error("%lld of %lld forged deliveries were not refused "
                      "with %s", repeat - refused, repeat,
                      tamper ? "signature_mismatch"
                             : "timestamp_out_of_tolerance");
        }

    } else {
        rc = (refused == 0 && failed == 0) ? CLI_OK : CLI_FAIL;
    }

done:

    cli_buf_free(&body);
    cli_buf_wipe(&s.secret);
    cli_buf_free(&wid);

    return rc;
}


static const cli_event_t *
cli_event_find(cli_provider_e provider, const char *type)
{
    size_t  i;

    for (i = 0; i < sizeof(cli_events) / sizeof(cli_events[0]); i++) {
        if (cli_events[i].provider != provider) {
            continue;
        }

        if (type == NULL || cli_events[i].type == NULL
            || strcmp(type, cli_events[i].type) == 0)
        {
            return &cli_events[i];
        }
    }

    return NULL;
}


static int
cli_type_ok(const char *type)
{
    size_t  len;

    len = strlen(type);

    return len > 0 && len <= 64
           && strspn(type, "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}


/*
 * The template with its placeholders filled in: %1$s the event id, %2$s
 * the time (RFC 3339), %3$lld the time (Unix), %4$s a random reference
 * for the objects, %5$s the type (Standard Webhooks).
 */

static char *
cli_event_body(const cli_event_t *ev, const char *type, const char *id,
    long long t)
{
    char        *out, *o, when[32], created[24], ref[32];
    size_t       len, n;
    const char  *p, *arg[5];

    cli_rfc3339(t, when, sizeof(when));
    snprintf(created, sizeof(created), "%lld", t);
    cli_random_hex(ref, 24);

    arg[0] = id;
    arg[1] = when;
    arg[2] = created;
    arg[3] = ref;
    arg[4] = ev->type ? ev->type : (type ? type : "payment.succeeded");

    len = strlen(ev->fmt) + 1;
    for (n = 0; n < 5; n++) {
        len += 8 * strlen(arg[n]);
    }

    out = malloc(len);
    if (out == NULL) {
        return NULL;
    }

    o = out;

    for (p = ev->fmt; *p; p++) {
        if (p[0] == '%' && p[1] >= '1' && p[1] <= '5' && p[2] == '$') {
            n = (size_t) (p[1] - '1');
            p += 3;
            while (*p == 'l') {
                p++;
            }
            /* p is at the conversion letter, s or d */
            o = stpcpy(o, arg[n]);
            continue;
        }

        *o++ = *p;
    }

    *o = '\0';

    return out;
}


/* an id of the provider's shape */

static void
cli_event_id(cli_provider_e provider, char *out, size_t size)
{
    char    hex[40];
    size_t  i;

    cli_random_hex(hex, 32);

    switch (provider) {

    case CLI_STRIPE:
        snprintf(out, size, "evt_%.24s", hex);
        break;

    case CLI_SQUARE:
        snprintf(out, size, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
                 hex + 12, hex + 16, hex + 20);
        break;

    case CLI_PAYPAL:
        for (i = 0; i < 32; i++) {
            hex[i] = (char) toupper((unsigned char) hex[i]);
        }
        snprintf(out, size, "WH-%.17s-%.15s", hex, hex + 17);
        break;

    default:
        snprintf(out, size, "msg_%.24s", hex);
        break;
    }
}


/* the event id a body names, as the module reads it (for the summary) */

static int
cli_body_id(cli_provider_e provider, const cli_buf_t *body, char *out,
    size_t size)
{
    int           rc;
    json_t       *j, *v;
    json_error_t  err;

    rc = -1;

    j = json_loadb((const char *) body->data, body->len, 0, &err);
    if (j == NULL) {
        return -1;
    }

    v = json_object_get(j, provider == CLI_SQUARE ? "event_id" : "id");

    if (json_is_string(v) && strlen(json_string_value(v)) < size) {
        snprintf(out, size, "%s", json_string_value(v));
        rc = 0;
    }

    json_decref(j);

    return rc;
}


/*
 * One byte changed after signing: the last digit of the body (every
 * template has some), else the case of its last letter.  The body stays
 * JSON when the byte is in a string or a number.
 */

static void
cli_tamper(unsigned char *body, size_t len)
{
    size_t  i;

    for (i = len; i > 0; i--) {
        if (isdigit(body[i - 1])) {
            body[i - 1] = (unsigned char) (body[i - 1] == '9'
                                           ? '0' : body[i - 1] + 1);
            return;
        }
    }

    for (i = len; i > 0; i--) {
        if (isalpha(body[i - 1])) {
            body[i - 1] ^= 0x20;
            return;
        }
    }

    if (len > 0) {
        body[0] ^= 0x01;
    }
}
