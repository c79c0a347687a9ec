
/*
 * Copyright (C) ngx_pay authors
 *
 * `ngx-pay backfill stripe`: the events Stripe's API lists since a time
 * (GET /v1/events, newest first, page by page), re-signed with the
 * endpoint's secret and delivered to it oldest first, so that the
 * module's dedupe absorbs those that were delivered already
 * (docs/cli.md#backfill).
 */


#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ngx_pay_cli.h"


#define CLI_EVENTS_MAX  100000
#define CLI_TYPES_MAX   20          /* as many as Stripe's types[] takes */
#define CLI_WAIT_MAX    30          /* seconds: Retry-After is capped */


typedef struct {
    char        *id;
    char        *body;      /* the event's bytes, as the page has them */
    size_t       len;
} cli_event_t;


typedef struct {
    cli_event_t *elts;
    size_t       n;
    size_t       size;
} cli_events_t;


typedef struct {
    const char  *api;
    const char  *to;
    cli_buf_t    api_key;
    long long    since;
    long long    page_size;
    long long    attempts;
    long long    timeout;
    const char  *starting_after;
    const char  *types[CLI_TYPES_MAX];
    size_t       ntypes;
    int          quiet;
} cli_backfill_conf_t;


static int cli_fetch(const cli_backfill_conf_t *conf, cli_events_t *events);
static int cli_page_events(const char *shown, cli_response_t *res,
    cli_events_t *events, int *more);
static int cli_json_spans(const char *p, const char *end, const char **at,
    size_t *len, size_t max, size_t *n);
static const char *cli_json_skip(const char *p, const char *end);
static const char *cli_json_ws(const char *p, const char *end);
static int cli_get_page(const cli_backfill_conf_t *conf, const char *url,
    cli_response_t *res);
static int cli_deliver(const cli_backfill_conf_t *conf, cli_sign_t *s,
    const cli_event_t *ev, long long *delivered, long long *duplicate);
static int cli_retryable(const cli_response_t *res);
static void cli_wait(long long attempt, const cli_response_t *res);
static void cli_events_free(cli_events_t *events);


static const char  cli_backfill_usage[] =
    "usage: ngx-pay backfill stripe --api-key KEY --since TIME --to URL\n"
    "                               --secret whsec_... [options]\n"
    "\n"
    "Lists Stripe's events since TIME (GET /v1/events?created[gte]=TIME,\n"
    "page by page), signs each with the endpoint's secret and POSTs it to\n"
    "URL, oldest first, its bytes as the API returned them: the module's\n"
    "dedupe answers \"duplicate\" for those delivered already.  Prints a\n"
    "line per event, then \"fetched N, delivered N, duplicate N, failed N\".\n"
    "Nothing is delivered unless every page could be listed.\n"
    "\n"
    "  --api-key KEY         Stripe's secret API key, sk_... or rk_... with\n"
    "                        read access to events (value, env:NAME,\n"
    "                        file:PATH; never printed)\n"
    "  --since TIME          Unix seconds, or a duration back from now:\n"
    "                        90s, 30m, 2h, 3d (Stripe keeps 30 days)\n"
    "  --to URL              the endpoint (the nginx location)\n"
    "  --secret S            the endpoint's signing secret (value, env:,\n"
    "                        file:)\n"
    "  --type TYPE           only events of TYPE (Stripe's types[], such as\n"
    "                        charge.refunded or charge.*), up to 20 times;\n"
    "                        without it every type in the account\n"
    "  --api URL             the API's base (default https://api.stripe.com)\n"
    "  --starting-after ID   list only events older than ID (Stripe's\n"
    "                        cursor); the newer ones are not delivered\n"
    "  --page-size N         events per page, 1 to 100 (default 100)\n"
    "  --attempts N          tries per request, 1 to 10 (default 5), on a\n"
    "                        network error, a 429, a 5xx, or the module's\n"
    "                        409 in_flight: after Retry-After (at most 30s),\n"
    "                        else 1s, 2s, 4s ... apart\n"
    "  --timeout SECONDS     per request (default 30)\n"
    "  -q, --quiet           the summary line only\n"
    "\n"
    "Exit status: 0 every event listed was delivered or a duplicate, 1 a\n"
    "delivery or the listing failed (run the same command again: dedupe\n"
    "absorbs what was delivered), 2 bad input.\n";


int
cli_backfill(int argc, char **argv)
{
    int                  c, rc, fetch_rc;
    size_t               i, n;
    long long            delivered, duplicate, failed;
    cli_sign_t           s;
    const char          *api_key, *since, *secret;
    cli_events_t         events;
    cli_provider_e       provider;
    cli_backfill_conf_t  conf;

    static const struct option  options[] = {
        { "api-key", required_argument, NULL, 'k' },
        { "since", required_argument, NULL, 'S' },
        { "to", required_argument, NULL, 'U' },
        { "secret", required_argument, NULL, 's' },
        { "type", required_argument, NULL, 'T' },
        { "api", required_argument, NULL, 'a' },
        { "starting-after", required_argument, NULL, 'A' },
        { "page-size", required_argument, NULL, 'p' },
        { "attempts", required_argument, NULL, 'r' },
        { "timeout", required_argument, NULL, 't' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&conf, 0, sizeof(conf));
    memset(&s, 0, sizeof(s));
    memset(&events, 0, sizeof(events));
    conf.api = "https://api.stripe.com";
    conf.page_size = 100;
    conf.attempts = 5;
    conf.timeout = 30;
    api_key = NULL;
    since = NULL;
    secret = NULL;

    opterr = 0;
    optind = 1;

    while ((c = getopt_long(argc, argv, ":hq", options, NULL)) != -1) {
        switch (c) {
        case 'k':
            api_key = optarg;
            break;
        case 'S':
            since = optarg;
            break;
        case 'U':
            conf.to = optarg;
            break;
        case 's':
            secret = optarg;
            break;
        case 'T':
            if (optarg[0] == '\0' || strlen(optarg) > 100
                || strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._*-")
                   != strlen(optarg))
            {
                cli_error("--type \"%s\" is not an event type such as "
                          "charge.refunded or charge.*", optarg);
                return CLI_USAGE;
            }

            if (conf.ntypes == CLI_TYPES_MAX) {
                cli_error("more than %d --type (Stripe's limit)",
                          CLI_TYPES_MAX);
                return CLI_USAGE;
            }

            conf.types[conf.ntypes++] = optarg;
            break;
        case 'a':
            conf.api = optarg;
            break;
        case 'A':
            if (strlen(optarg) >= 200 || strspn(optarg,
                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789_") != strlen(optarg))
            {
                cli_error("--starting-after \"%s\" is not an event id",
                          optarg);
                return CLI_USAGE;
            }
            conf.starting_after = optarg;
            break;
        case 'p':
            if (cli_parse_number(optarg, 1, 100, &conf.page_size) != 0) {
                cli_error("--page-size \"%s\" is not 1 to 100", optarg);
                return CLI_USAGE;
            }
            break;
        case 'r':
            if (cli_parse_number(optarg, 1, 10, &conf.attempts) != 0) {
                cli_error("--attempts \"%s\" is not 1 to 10", optarg);
                return CLI_USAGE;
            }
            break;
        case 't':
            if (cli_parse_number(optarg, 1, 3600, &conf.timeout) != 0) {
                cli_error("--timeout \"%s\" is not 1 to 3600 seconds",
                          optarg);
                return CLI_USAGE;
            }
            break;
        case 'q':
            conf.quiet = 1;
            break;
        case 'h':
            fputs(cli_backfill_usage, stdout);
            return CLI_OK;
        default:
            return cli_option_error(c, argv);
        }
    }

    if (cli_provider_arg(argc, argv, &provider) != 0) {
        return CLI_USAGE;
    }

    if (provider != CLI_STRIPE) {
        cli_error("%s: only stripe has an events API to backfill from",
                  argv[optind]);
        return CLI_USAGE;
    }

    if (since == NULL) {
        cli_error("--since is missing (Unix seconds, or a duration: 2h)");
        return CLI_USAGE;
    }

    if (cli_parse_since(since, (long long) time(NULL), &conf.since) != 0) {
        cli_error("--since \"%s\" is neither Unix seconds nor a duration "
                  "such as 90s, 30m, 2h, 3d", since);
        return CLI_USAGE;
    }

    if (conf.to == NULL) {
        cli_error("--to is missing (the endpoint to deliver to)");
        return CLI_USAGE;
    }

    if (cli_secret_load("--api-key", api_key, &conf.api_key) != 0) {
        return CLI_USAGE;
    }

    if (cli_secret_load("--secret", secret, &s.secret) != 0) {
        cli_buf_wipe(&conf.api_key);
        return CLI_USAGE;
    }

    s.provider = CLI_STRIPE;

    if (cli_url_plain_remote(conf.api)) {
        cli_error("warning: --api is plain http:// to another machine: "
                  "the API key is sent unencrypted");
    }

    fetch_rc = cli_fetch(&conf, &events);

    n = events.n;
    delivered = 0;
    duplicate = 0;
    failed = 0;

    if (fetch_rc == 0) {
        /* Stripe lists newest first: deliver from the end */
        for (i = n; i > 0; i--) {
            c = cli_deliver(&conf, &s, &events.elts[i - 1], &delivered,
                            &duplicate);

            if (c == -2) {
                /* unreachable (the line before said so): the rest too */
                failed += (long long) i;
                break;
            }

            if (c != 0) {
                failed++;
            }
        }
    }

    printf("fetched %zu, delivered %lld, duplicate %lld, failed %lld\n", n,
           delivered, duplicate, failed);

    if (fetch_rc != 0 && n != 0) {
        /*
         * The line before said which request failed and how.  Nothing is
         * delivered: the older events, delivered first, are not known
         * yet, and a cursor would skip the newer ones already listed.
         */
        cli_error("the listing failed after %zu events, nothing was "
                  "delivered: run the same command again (dedupe absorbs "
                  "what was delivered before)", n);
    }

    rc = (fetch_rc == 0 && failed == 0) ? CLI_OK : CLI_FAIL;

    cli_events_free(&events);
    cli_buf_wipe(&conf.api_key);
    cli_buf_wipe(&s.secret);

    return rc;
}


/*
 * Every page from --starting-after (or the newest) down to --since, each
 * event appended to events.  0, or -1 after one line saying which request
 * failed and how.
 */

static int
cli_fetch(const cli_backfill_conf_t *conf, cli_events_t *events)
{
    int              more;
    char             url[4096], shown[512];
    size_t           i, base, n;
    const char      *cursor;
    cli_response_t   res;

    base = strlen(conf->api);
    while (base > 0 && conf->api[base - 1] == '/') {
        base--;
    }

    cursor = conf->starting_after;

    for ( ;; ) {
        n = (size_t) snprintf(url, sizeof(url),
                              "%.*s/v1/events?limit=%lld"
                              "&created%%5Bgte%%5D=%lld",
                              (int) base, conf->api, conf->page_size,
                              conf->since);

        for (i = 0; i < conf->ntypes && n < sizeof(url); i++) {
            n += (size_t) snprintf(url + n, sizeof(url) - n,
                                   "&types%%5B%%5D=%s", conf->types[i]);
        }

        if (cursor != NULL && n < sizeof(url)) {
            n += (size_t) snprintf(url + n, sizeof(url) - n,
                                   "&starting_after=%s", cursor);
        }

        if (n >= sizeof(url)) {
            cli_error("--api is too long");
            return -1;
        }

        cli_url_redact(url, shown, sizeof(shown));

        if (cli_get_page(conf, url, &res) != 0) {
            return -1;
        }

        n = events->n;

        if (cli_page_events(shown, &res, events, &more) != 0) {
            cli_response_free(&res);
            return -1;
        }

        cli_response_free(&res);

        if (!more || events->n == n) {
            return 0;
        }

        cursor = events->elts[events->n - 1].id;
    }
}


/*
 * A page's events appended to events: jansson reads the page's
 * structure and each event's id; cli_json_spans() finds each event's
 * bytes in the page's text, delivered as they are (not re-serialized:
 * numbers, escapes and the order of members stay as the API wrote them).
 */

static int
cli_page_events(const char *shown, cli_response_t *res,
    cli_events_t *events, int *more)
{
    int            rc;
    size_t         i, n, *len;
    json_t        *page, *data, *id;
    cli_event_t   *ev;
    const char    *text, **at, *object;
    json_error_t   err;

    text = (const char *) res->body.data;

    /* big integers and \u0000 are read, not refused: only ids are used */
    page = json_loadb(text, res->body.len, JSON_REJECT_DUPLICATES
                      | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &err);

    data = json_object_get(page, "data");
    object = json_string_value(json_object_get(page, "object"));

    if (page == NULL || !json_is_array(data)
        || !json_is_boolean(json_object_get(page, "has_more"))
        || object == NULL || strcmp(object, "list") != 0)
    {
        cli_error("GET %s: the answer is not a Stripe list "
                  "({\"object\":\"list\",\"data\":[...],"
                  "\"has_more\":...})", shown);
        json_decref(page);
        return -1;
    }

    *more = json_is_true(json_object_get(page, "has_more"));
    n = json_array_size(data);

    at = malloc((n + 1) * sizeof(const char *));
    len = malloc((n + 1) * sizeof(size_t));

    if (at == NULL || len == NULL) {
        cli_error("out of memory");
        rc = -1;
        goto done;
    }

    if (cli_json_spans(text, text + res->body.len, at, len, n + 1, &i) != 0
        || i != n)
    {
        cli_error("GET %s: the events cannot be found in the answer's "
                  "text", shown);
        rc = -1;
        goto done;
    }

    rc = 0;

    for (i = 0; i < n; i++) {
        id = json_object_get(json_array_get(data, i), "id");

        if (!json_is_string(id) || json_string_length(id) == 0
            || json_string_length(id) >= 200
            || strlen(json_string_value(id)) != json_string_length(id))
        {
            cli_error("GET %s: event %zu of the page has no id", shown, i);
            rc = -1;
            break;
        }

        if (events->n >= CLI_EVENTS_MAX) {
            cli_error("more than %d events: narrow --since or --type",
                      CLI_EVENTS_MAX);
            rc = -1;
            break;
        }

        if (events->n == events->size) {
            ev = realloc(events->elts, (events->size * 2 + 64)
                                       * sizeof(cli_event_t));
            if (ev == NULL) {
                cli_error("out of memory");
                rc = -1;
                break;
            }

            events->elts = ev;
            events->size = events->size * 2 + 64;
        }

        ev = &events->elts[events->n];
        ev->id = strdup(json_string_value(id));
        ev->body = malloc(len[i] + 1);

        if (ev->id == NULL || ev->body == NULL) {
            free(ev->id);
            free(ev->body);
            cli_error("out of memory");
            rc = -1;
            break;
        }

        memcpy(ev->body, at[i], len[i]);
        ev->body[len[i]] = '\0';
        ev->len = len[i];
        events->n++;
    }

done:

    free(at);
    free(len);
    json_decref(page);

    return rc;
}


/*
 * The bytes of each element of the top-level member "data" of the JSON
 * object in [p, end), which jansson has read already (so it is JSON):
 * at[i], len[i], up to max of them, *n found.  0, or -1.
 */

static int
cli_json_spans(const char *p, const char *end, const char **at,
    size_t *len, size_t max, size_t *n)
{
    int          data;
    const char  *key;

    *n = 0;
    p = cli_json_ws(p, end);

    if (p == end || *p++ != '{') {
        return -1;
    }

    for ( ;; ) {
        p = cli_json_ws(p, end);

        if (p < end && *p == '}') {
            return 0;
        }

        if (p == end || *p != '"') {
            return -1;
        }

        key = p;
        p = cli_json_skip(p, end);
        if (p == NULL) {
            return -1;
        }

        data = (p - key == 6 && memcmp(key, "\"data\"", 6) == 0);

        p = cli_json_ws(p, end);
        if (p == end || *p++ != ':') {
            return -1;
        }

        p = cli_json_ws(p, end);

        if (data && p < end && *p == '[') {
            p = cli_json_ws(p + 1, end);

            while (p < end && *p != ']') {
                if (*n == max) {
                    return -1;
                }

                at[*n] = p;
                p = cli_json_skip(p, end);
                if (p == NULL) {
                    return -1;
                }
                len[*n] = (size_t) (p - at[*n]);
                (*n)++;

                p = cli_json_ws(p, end);
                if (p < end && *p == ',') {
                    p = cli_json_ws(p + 1, end);
                }
            }

            if (p == end) {
                return -1;
            }

            p++;

        } else {
            p = cli_json_skip(p, end);
            if (p == NULL) {
                return -1;
            }
        }

        p = cli_json_ws(p, end);

        if (p < end && *p == ',') {
            p++;
        }
    }
}


/* past one JSON value starting at p, or NULL */

static const char *
cli_json_skip(const char *p, const char *end)
{
    size_t  depth;

    depth = 0;

    do {
        if (p == end) {
            return NULL;
        }

        switch (*p) {

        case '"':
            for (p++; p < end && *p != '"'; p++) {
                if (*p == '\\') {
                    p++;
                }
            }

            if (p >= end) {
                return NULL;
            }

            p++;
            break;

        case '{':
        case '[':
            depth++;
            p++;
            break;

        case '}':
        case ']':
            if (depth == 0) {
                return NULL;
            }
            depth--;
            p++;
            break;

        case ',':
        case ':':
        case ' ':
        case '\t':
        case '\r':
        case '\n':
            if (depth == 0) {
                return NULL;
            }
            p++;
            break;

        default:
            /* a number, true, false, null */
            while (p < end && strchr(",:]} \t\r\n\"", *p) == NULL) {
                p++;
            }
            break;
        }

    } while (depth > 0);

    return p;
}


static const char *
cli_json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    {
        p++;
    }

    return p;
}


/*
 * One GET, tried again (cli_retryable()) on a network error, a 429 or a
 * 5xx.
 */

static int
cli_get_page(const cli_backfill_conf_t *conf, const char *url,
    cli_response_t *res)
{
    char          shown[512], message[256];
    size_t        i;
    json_t       *j;
    long long     attempt;
    const char   *m;
    json_error_t  err;

    cli_url_redact(url, shown, sizeof(shown));

    for (attempt = 1; ; attempt++) {

        if (cli_http("GET", url, (const char *) conf->api_key.data, NULL,
                     NULL, 0, conf->timeout, res)
            != 0)
        {
            if (attempt >= conf->attempts) {
                return -1;
            }

            cli_wait(attempt, NULL);
            continue;
        }

        if (res->status == 200) {
            return 0;
        }

        if (cli_retryable(res) && attempt < conf->attempts) {
            if (!conf->quiet) {
                printf("GET %s answered %ld: trying again\n", shown,
                       res->status);
                fflush(stdout);
            }
            cli_wait(attempt, res);
            cli_response_free(res);
            continue;
        }

        /* Stripe's errors: {"error":{"message":"..."}}, shown escaped */
        j = json_loadb((const char *) res->body.data, res->body.len, 0,
                       &err);
        m = json_string_value(json_object_get(json_object_get(j, "error"),
                                              "message"));

        for (i = 0; m != NULL && *m != '\0' && i < sizeof(message) - 5;
             m++)
        {
            if ((unsigned char) *m < 0x20 || *m == 0x7f || *m == '\\') {
                i += (size_t) snprintf(message + i, sizeof(message) - i,
                                       "\\x%02x", (unsigned char) *m);
            } else {
                message[i++] = *m;
            }
        }

        message[i] = '\0';

        cli_error("GET %s answered %ld%s%s%s", shown, res->status,
                  i ? " (" : "", message, i ? ")" : "");

        json_decref(j);
        cli_response_free(res);

        return -1;
    }
}


/*
 * One event: signed now, POSTed.  0 delivered or duplicate, -1 refused
 * or failed, -2 the endpoint could not be reached (after --attempts).
 */

static int
cli_deliver(const cli_backfill_conf_t *conf, cli_sign_t *s,
    const cli_event_t *ev, long long *delivered, long long *duplicate)
{
    int              rc;
    char             code[64];
    long long        attempt;
    const char      *outcome;
    cli_headers_t    h;
    cli_response_t   res;

    rc = -1;

    for (attempt = 1; ; attempt++) {

        s->t = (long long) time(NULL);

        if (cli_sign_headers(s, (unsigned char *) ev->body, ev->len, &h)
            != 0)
        {
            break;
        }

        if (cli_http("POST", conf->to, NULL, &h, (unsigned char *) ev->body,
                     ev->len, conf->timeout, &res)
            != 0)
        {
            cli_headers_free(&h);

            if (attempt < conf->attempts) {
                cli_wait(attempt, NULL);
                continue;
            }

            if (!conf->quiet) {
                printf("failed %s: unreachable\n", ev->id);
            }
            rc = -2;
            break;
        }

        cli_headers_free(&h);

        outcome = cli_response_outcome(&res, code, sizeof(code));

        if (cli_retryable(&res) && attempt < conf->attempts) {
            if (!conf->quiet) {
                printf("retry %s: %ld %s\n", ev->id, res.status, outcome);
                fflush(stdout);
            }
            cli_wait(attempt, &res);
            cli_response_free(&res);
            continue;
        }

        if (res.status >= 200 && res.status < 300) {
            if (strcmp(outcome, "duplicate") == 0) {
                (*duplicate)++;
            } else {
                (*delivered)++;
            }
            rc = 0;
        }

        if (!conf->quiet) {
            if (rc == 0) {
                printf("%s %s\n", outcome, ev->id);
            } else {
                printf("failed %s: %ld %s\n", ev->id, res.status, outcome);
            }
        }

        cli_response_free(&res);
        break;
    }

    fflush(stdout);

    return rc;
}


/*
 * What is worth asking again: a 429, a 5xx, and the module's 409
 * in_flight (another delivery of the event is being processed: the
 * answer to it decides, docs/errors.md).
 */

static int
cli_retryable(const cli_response_t *res)
{
    char  code[64];

    if (res->status == 429 || res->status >= 500) {
        return 1;
    }

    return res->status == 409
           && cli_response_code(res, code, sizeof(code)) == 0
           && strcmp(code, "in_flight") == 0;
}


/*
 * Before attempt + 1: the answer's Retry-After, at most CLI_WAIT_MAX
 * seconds; without one 1s, 2s, 4s, ... at most 32s.  A command line:
 * waiting is its job.
 */

static void
cli_wait(long long attempt, const cli_response_t *res)
{
    long long        after;
    struct timespec  ts;

    after = (res != NULL) ? cli_response_retry_after(res) : -1;

    if (after >= 0) {
        ts.tv_sec = (time_t) (after < CLI_WAIT_MAX ? after : CLI_WAIT_MAX);

    } else {
        ts.tv_sec = (time_t) 1 << (attempt - 1 < 5 ? attempt - 1 : 5);
    }

    ts.tv_nsec = 0;

    while (nanosleep(&ts, &ts) != 0) {
        /* EINTR: the rest of it */
    }
}


static void
cli_events_free(cli_events_t *events)
{
    size_t  i;

    for (i = 0; i < events->n; i++) {
        free(events->elts[i].id);
        free(events->elts[i].body);
    }

    free(events->elts);
}
