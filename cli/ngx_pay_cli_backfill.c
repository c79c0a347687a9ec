
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


typedef struct {
    const char  *api;
    const char  *to;
    cli_buf_t    api_key;
    long long    since;
    long long    page_size;
    long long    attempts;
    long long    timeout;
    const char  *starting_after;
    int          quiet;
} cli_backfill_conf_t;


static int cli_fetch(const cli_backfill_conf_t *conf, json_t *events,
    char *cursor, size_t size);
static int cli_get_page(const cli_backfill_conf_t *conf, const char *url,
    cli_response_t *res);
static int cli_deliver(const cli_backfill_conf_t *conf, cli_sign_t *s,
    json_t *event, long long *delivered, long long *duplicate);
static void cli_backoff(long long attempt);


static const char  cli_backfill_usage[] =
    "usage: ngx-pay backfill stripe --api-key KEY --since TIME --to URL\n"
    "                               --secret whsec_... [options]\n"
    "\n"
    "Lists Stripe's events since TIME (GET /v1/events?created[gte]=TIME,\n"
    "page by page), signs each with the endpoint's secret and POSTs it to\n"
    "URL, oldest first: the module's dedupe answers \"duplicate\" for those\n"
    "delivered already.  Prints a line per event, then\n"
    "\"fetched N, delivered N, duplicate N, failed N\".\n"
    "\n"
    "  --api-key KEY         Stripe's secret API key, sk_... or rk_... with\n"
    "                        read access to events (value, env:NAME,\n"
    "                        file:PATH; never printed)\n"
    "  --since TIME          Unix seconds, or a duration back from now:\n"
    "                        90s, 30m, 2h, 3d (Stripe keeps 30 days)\n"
    "  --to URL              the endpoint (the nginx location)\n"
    "  --secret S            the endpoint's signing secret (value, env:,\n"
    "                        file:)\n"
    "  --api URL             the API's base (default https://api.stripe.com)\n"
    "  --starting-after ID   list only events older than ID (Stripe's\n"
    "                        cursor): resumes a listing that failed\n"
    "  --page-size N         events per page, 1 to 100 (default 100)\n"
    "  --attempts N          tries per request on a 5xx, a 429 or a network\n"
    "                        error, 1s, 2s, 4s ... apart (default 3)\n"
    "  --timeout SECONDS     per request (default 30)\n"
    "  -q, --quiet           the summary line only\n"
    "\n"
    "Exit status: 0 every event listed was delivered or a duplicate, 1 a\n"
    "delivery or the listing failed, 2 bad input.\n";


int
cli_backfill(int argc, char **argv)
{
    int                  c, rc, fetch_rc;
    char                 cursor[256];
    size_t               i, n;
    long long            delivered, duplicate, failed;
    json_t              *events;
    cli_sign_t           s;
    const char          *api_key, *since, *secret;
    cli_provider_e       provider;
    cli_backfill_conf_t  conf;

    static const struct option  options[] = {
        { "api-key", required_argument, NULL, 'k' },
        { "since", required_argument, NULL, 'S' },
        { "to", required_argument, NULL, 'U' },
        { "secret", required_argument, NULL, 's' },
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
    conf.api = "https://api.stripe.com";
    conf.page_size = 100;
    conf.attempts = 3;
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

    events = json_array();
    if (events == NULL) {
        cli_error("out of memory");
        rc = CLI_FAIL;
        goto done;
    }

    cursor[0] = '\0';
    fetch_rc = cli_fetch(&conf, events, cursor, sizeof(cursor));

    n = json_array_size(events);
    delivered = 0;
    duplicate = 0;
    failed = 0;

    if (fetch_rc == 0) {
        /* Stripe lists newest first: deliver from the end */
        for (i = n; i > 0; i--) {
            c = cli_deliver(&conf, &s, json_array_get(events, i - 1),
                            &delivered, &duplicate);

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
        /* the line before said which request failed and how */
        cli_error("the listing failed after %zu events, nothing was "
                  "delivered; run it again (dedupe absorbs what was "
                  "delivered before), or add --starting-after %s to list "
                  "only what is older", n, cursor);
    }

    rc = (fetch_rc == 0 && failed == 0) ? CLI_OK : CLI_FAIL;

done:

    json_decref(events);
    cli_buf_wipe(&conf.api_key);
    cli_buf_wipe(&s.secret);

    return rc;
}


/*
 * Every page from --starting-after (or the newest) down to --since, each
 * event appended to events; cursor is the id of the last event listed.
 * 0, or -1 after one line saying which request failed and how.
 */

static int
cli_fetch(const cli_backfill_conf_t *conf, json_t *events, char *cursor,
    size_t size)
{
    int              rc;
    char             url[2048];
    size_t           i, base;
    json_t          *page, *data, *more, *ev, *id;
    json_error_t     err;
    cli_response_t   res;

    base = strlen(conf->api);
    while (base > 0 && conf->api[base - 1] == '/') {
        base--;
    }

    if (conf->starting_after != NULL) {
        snprintf(cursor, size, "%s", conf->starting_after);
    }

    for ( ;; ) {
        if ((size_t) snprintf(url, sizeof(url),
                              "%.*s/v1/events?limit=%lld"
                              "&created%%5Bgte%%5D=%lld%s%s",
                              (int) base, conf->api, conf->page_size,
                              conf->since,
                              cursor[0] ? "&starting_after=" : "", cursor)
            >= sizeof(url))
        {
            cli_error("--api is too long");
            return -1;
        }

        if (cli_get_page(conf, url, &res) != 0) {
            return -1;
        }

        page = json_loadb((const char *) res.body.data, res.body.len, 0,
                          &err);
        cli_response_free(&res);

        data = json_object_get(page, "data");
        more = json_object_get(page, "has_more");

        if (page == NULL || !json_is_array(data) || !json_is_boolean(more)
            || !json_is_string(json_object_get(page, "object"))
            || strcmp(json_string_value(json_object_get(page, "object")),
                      "list") != 0)
        {
            cli_error("GET %s: the answer is not a Stripe list "
                      "({\"object\":\"list\",\"data\":[...],"
                      "\"has_more\":...})", url);
            json_decref(page);
            return -1;
        }

        rc = 0;

        for (i = 0; i < json_array_size(data); i++) {
            ev = json_array_get(data, i);
            id = json_object_get(ev, "id");

            if (!json_is_object(ev) || !json_is_string(id)
                || strlen(json_string_value(id)) >= size)
            {
                cli_error("GET %s: event %zu of the page has no id", url, i);
                rc = -1;
                break;
            }

            if (json_array_size(events) >= CLI_EVENTS_MAX
                || json_array_append(events, ev) != 0)
            {
                cli_error("more than %d events: narrow --since",
                          CLI_EVENTS_MAX);
                rc = -1;
                break;
            }

            snprintf(cursor, size, "%s", json_string_value(id));
        }

        if (rc != 0 || !json_is_true(more) || json_array_size(data) == 0) {
            json_decref(page);
            return rc;
        }

        json_decref(page);
    }
}


/* one GET, tried again on a network error, a 429 or a 5xx */

static int
cli_get_page(const cli_backfill_conf_t *conf, const char *url,
    cli_response_t *res)
{
    char        code[64];
    json_t     *j;
    long long   attempt;
    const char *message;
    json_error_t  err;

    for (attempt = 1; ; attempt++) {

        if (cli_http("GET", url, (const char *) conf->api_key.data, NULL,
                     NULL, 0, conf->timeout, res)
            != 0)
        {
            if (attempt >= conf->attempts) {
                return -1;
            }

            cli_backoff(attempt);
            continue;
        }

        if (res->status == 200) {
            return 0;
        }

        if ((res->status == 429 || res->status >= 500)
            && attempt < conf->attempts)
        {
            if (!conf->quiet) {
                printf("GET %s answered %ld: trying again\n", url,
                       res->status);
                fflush(stdout);
            }
            cli_response_free(res);
            cli_backoff(attempt);
            continue;
        }

        /* Stripe's errors: {"error":{"message":"..."}} */
        j = json_loadb((const char *) res->body.data, res->body.len, 0,
                       &err);
        message = json_string_value(json_object_get(
                      json_object_get(j, "error"), "message"));
        snprintf(code, sizeof(code), "%s", message ? message : "");

        cli_error("GET %s answered %ld%s%s%s", url, res->status,
                  message ? " (" : "", code, message ? ")" : "");

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
cli_deliver(const cli_backfill_conf_t *conf, cli_sign_t *s, json_t *event,
    long long *delivered, long long *duplicate)
{
    int              rc;
    char            *body, code[64];
    size_t           len;
    long long        attempt;
    const char      *id, *outcome;
    cli_headers_t    h;
    cli_response_t   res;

    id = json_string_value(json_object_get(event, "id"));

    body = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (body == NULL) {
        cli_error("out of memory");
        return -1;
    }

    len = strlen(body);
    rc = -1;

    for (attempt = 1; ; attempt++) {

        s->t = (long long) time(NULL);

        if (cli_sign_headers(s, (unsigned char *) body, len, &h) != 0) {
            break;
        }

        if (cli_http("POST", conf->to, NULL, &h, (unsigned char *) body, len,
                     conf->timeout, &res)
            != 0)
        {
            cli_headers_free(&h);

            if (attempt < conf->attempts) {
                cli_backoff(attempt);
                continue;
            }

            if (!conf->quiet) {
                printf("failed %s: unreachable\n", id);
            }
            rc = -2;
            break;
        }

        cli_headers_free(&h);

        if ((res.status >= 500 || res.status == 429)
            && attempt < conf->attempts)
        {
            cli_response_free(&res);
            cli_backoff(attempt);
            continue;
        }

        outcome = cli_response_outcome(&res, code, sizeof(code));

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
                printf("%s %s\n", outcome, id);
            } else {
                printf("failed %s: %ld %s\n", id, res.status, outcome);
            }
        }

        cli_response_free(&res);
        break;
    }

    fflush(stdout);
    free(body);

    return rc;
}


static void
cli_backoff(long long attempt)
{
    struct timespec  ts;

    /* 1s, 2s, 4s, ... at most 32s: a command line, waiting is its job */
    ts.tv_sec = (time_t) 1 << (attempt - 1 < 5 ? attempt - 1 : 5);
    ts.tv_nsec = 0;

    while (nanosleep(&ts, &ts) != 0) {
        /* EINTR: the rest of it */
    }
}
