
/*
 * Copyright (C) ngx_pay authors
 *
 * ngx-pay: the entry point, and what every command shares: providers,
 * secrets (a literal, env:NAME or file:PATH, as the module reads them;
 * never printed), reading bodies, times.  docs/cli.md documents it all.
 */


#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ngx_pay_cli.h"
#include "ngx_http_pay_version.h"


const char  *cli_command = NULL;


static int cli_buf_copy(const char *s, cli_buf_t *out);


static const char  *cli_providers[] = {
    [CLI_STRIPE] = "stripe",
    [CLI_SQUARE] = "square",
    [CLI_STANDARD] = "standard",
    [CLI_PAYPAL] = "paypal"
};


static const char  cli_usage[] =
    "usage: ngx-pay COMMAND [options]\n"
    "\n"
    "  sign PROVIDER [options] < body     print the headers PROVIDER sends\n"
    "                                     with this body\n"
    "  send PROVIDER --url URL [options]  sign and POST a test delivery\n"
    "  verify PROVIDER [options] < captured.http\n"
    "                                     verify a captured request offline\n"
    "  backfill stripe --api-key KEY --since TIME --to URL --secret S\n"
    "                                     deliver missed Stripe events again\n"
    "\n"
    "PROVIDER: stripe, square, standard, paypal.  Secrets are given as\n"
    "they are, or as env:NAME or file:PATH.  ngx-pay COMMAND --help for a\n"
    "command's options; docs/cli.md and ngx-pay(1) for everything.\n"
    "Exit status: 0 done as wanted, 1 refused or failed, 2 bad input.\n";


int
main(int argc, char **argv)
{
    int  rc;

    if (argc < 2) {
        fputs(cli_usage, stderr);
        return CLI_USAGE;
    }

    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0)
    {
        fputs(cli_usage, stdout);
        return CLI_OK;
    }

    if (strcmp(argv[1], "--version") == 0) {
        printf("ngx-pay %s\n", NGX_PAY_VERSION);
        return CLI_OK;
    }

    cli_command = argv[1];

    if (cli_http_init() != 0) {
        cli_error("libcurl could not be initialized");
        return CLI_FAIL;
    }

    if (strcmp(argv[1], "sign") == 0) {
        rc = cli_sign(argc - 1, argv + 1);

    } else if (strcmp(argv[1], "send") == 0) {
        rc = cli_send(argc - 1, argv + 1);

    } else if (strcmp(argv[1], "verify") == 0) {
        rc = cli_verify(argc - 1, argv + 1);

    } else if (strcmp(argv[1], "backfill") == 0) {
        rc = cli_backfill(argc - 1, argv + 1);

    } else {
        cli_command = NULL;
        cli_error("unknown command \"%s\" (sign, send, verify, backfill; "
                  "ngx-pay --help)", cli_shown_word(argv[1]));
        rc = CLI_USAGE;
    }

    cli_http_cleanup();

    return rc;
}


/*
 * A word the user typed where a command or provider goes, as an error
 * message may show it: a secret pasted in the wrong place must not be
 * echoed, so anything longer than a provider's name or with other than
 * lowercase letters, digits, "-" and "_" is shown as "...".
 */

const char *
cli_shown_word(const char *word)
{
    size_t  i;

    for (i = 0; word[i] != '\0'; i++) {
        if (i == 16
            || !((word[i] >= 'a' && word[i] <= 'z')
                 || (word[i] >= '0' && word[i] <= '9')
                 || word[i] == '-' || word[i] == '_'))
        {
            return "...";
        }
    }

    return word;
}


/* one line on stderr: "ngx-pay: COMMAND: what went wrong" */

void
cli_error(const char *fmt, ...)
{
    va_list  args;

    fputs("ngx-pay: ", stderr);

    if (cli_command != NULL) {
        fprintf(stderr, "%s: ", cli_command);
    }

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);

    fputc('\n', stderr);
}


int
cli_provider(const char *name, cli_provider_e *provider)
{
    size_t  i;

    if (name == NULL) {
        cli_error("no provider given (stripe, square, standard, paypal)");
        return -1;
    }

    for (i = 0; i < sizeof(cli_providers) / sizeof(cli_providers[0]); i++) {
        if (strcmp(name, cli_providers[i]) == 0) {
            *provider = (cli_provider_e) i;
            return 0;
        }
    }

    cli_error("unknown provider \"%s\" (stripe, square, standard, paypal)",
              cli_shown_word(name));

    return -1;
}


const char *
cli_provider_name(cli_provider_e provider)
{
    return cli_providers[provider];
}


/*
 * A secret as the module takes it: "env:NAME", "file:PATH" (trailing
 * newlines stripped, at most CLI_SECRET_MAX bytes), or the value itself.
 * Errors name the option, the variable or the path, never the value.
 */

int
cli_secret_load(const char *option, const char *value, cli_buf_t *out)
{
    const char  *env;

    out->data = NULL;
    out->len = 0;

    if (value == NULL) {
        cli_error("%s is missing (a value, env:NAME or file:PATH)", option);
        return -1;
    }

    if (strncmp(value, "env:", 4) == 0 && value[4] != '\0') {
        env = getenv(value + 4);
        if (env == NULL) {
            cli_error("%s: environment variable \"%s\" is not set", option,
                      value + 4);
            return -1;
        }

        if (cli_buf_copy(env, out) != 0) {
            return -1;
        }

    } else if (strncmp(value, "file:", 5) == 0 && value[5] != '\0') {
        if (cli_read_file(value + 5, out) != 0) {
            return -1;
        }

        if (out->len > CLI_SECRET_MAX) {
            cli_error("%s: secret file \"%s\" is larger than %d bytes",
                      option, value + 5, CLI_SECRET_MAX);
            cli_buf_wipe(out);
            return -1;
        }

        while (out->len > 0 && (out->data[out->len - 1] == '\n'
                                || out->data[out->len - 1] == '\r'))
        {
            out->len--;
        }

        out->data[out->len] = '\0';

    } else if (cli_buf_copy(value, out) != 0) {
        return -1;
    }

    if (out->len == 0) {
        cli_error("%s: the secret is empty", option);
        cli_buf_wipe(out);
        return -1;
    }

    return 0;
}


static int
cli_buf_copy(const char *s, cli_buf_t *out)
{
    out->len = strlen(s);
    out->data = malloc(out->len + 1);
    if (out->data == NULL) {
        out->len = 0;
        cli_error("out of memory");
        return -1;
    }

    memcpy(out->data, s, out->len + 1);

    return 0;
}


void
cli_buf_free(cli_buf_t *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
}


void
cli_buf_wipe(cli_buf_t *buf)
{
    if (buf->data != NULL) {
        OPENSSL_cleanse(buf->data, buf->len);
    }

    cli_buf_free(buf);
}


int
cli_read_stream(FILE *f, const char *what, cli_buf_t *out)
{
    size_t          n, size;
    unsigned char  *p;

    size = 4096;
    out->len = 0;
    out->data = malloc(size);
    if (out->data == NULL) {
        cli_error("out of memory");
        return -1;
    }

    for ( ;; ) {
        if (out->len + 1 >= size) {
            if (size >= CLI_BODY_MAX) {
                cli_error("%s is larger than %d bytes", what, CLI_BODY_MAX);
                cli_buf_free(out);
                return -1;
            }

            size *= 2;
            p = realloc(out->data, size);
            if (p == NULL) {
                cli_error("out of memory");
                cli_buf_free(out);
                return -1;
            }
            out->data = p;
        }

        n = fread(out->data + out->len, 1, size - out->len - 1, f);
        out->len += n;

        if (n == 0) {
            break;
        }
    }

    if (ferror(f)) {
        cli_error("cannot read %s: %s", what, strerror(errno));
        cli_buf_free(out);
        return -1;
    }

    out->data[out->len] = '\0';

    return 0;
}


int
cli_read_file(const char *path, cli_buf_t *out)
{
    int    rc;
    FILE  *f;

    f = fopen(path, "rb");
    if (f == NULL) {
        cli_error("cannot open \"%s\": %s", path, strerror(errno));
        return -1;
    }

    rc = cli_read_stream(f, path, out);
    fclose(f);

    return rc;
}


/* 1 when data is one JSON object, nothing after it but whitespace */

int
cli_json_object(const unsigned char *data, size_t len)
{
    int           ok;
    json_t       *j;
    json_error_t  err;

    j = json_loadb((const char *) data, len, 0, &err);
    ok = (j != NULL && json_is_object(j));
    json_decref(j);

    return ok;
}


/* a decimal integer in [min, max], nothing else */

int
cli_parse_number(const char *s, long long min, long long max, long long *n)
{
    char       *end;
    long long   v;

    if (s == NULL || *s == '\0' || isspace((unsigned char) *s)) {
        return -1;
    }

    errno = 0;
    v = strtoll(s, &end, 10);

    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return -1;
    }

    *n = v;

    return 0;
}


/*
 * --since: a Unix time ("1733100000"), or a duration before now: digits
 * and a unit, s, m, h or d ("90m", "2h", "3d").
 */

int
cli_parse_since(const char *s, long long now, long long *t)
{
    char        digits[32];
    size_t      len;
    long long   n, unit;

    len = strlen(s);

    if (len == 0 || len >= sizeof(digits)) {
        return -1;
    }

    switch (s[len - 1]) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    default:
        return cli_parse_number(s, 0, LLONG_MAX / 2, t);
    }

    memcpy(digits, s, len - 1);
    digits[len - 1] = '\0';

    if (cli_parse_number(digits, 0, 100LL * 365 * 86400 / unit, &n) != 0) {
        return -1;
    }

    *t = now - n * unit;

    return 0;
}


/* n random lowercase hex digits and a NUL (out holds n + 1) */

void
cli_random_hex(char *out, size_t n)
{
    size_t         i;
    unsigned char  r[64];

    static const char  hex[] = "0123456789abcdef";

    if (n > 2 * sizeof(r)) {
        n = 2 * sizeof(r);
    }

    if (RAND_bytes(r, sizeof(r)) != 1) {
        /* not a secret: ids only need to differ between runs */
        srand((unsigned int) time(NULL) ^ (unsigned int) clock());
        for (i = 0; i < sizeof(r); i++) {
            r[i] = (unsigned char) rand();
        }
    }

    for (i = 0; i < n; i++) {
        out[i] = hex[(r[i / 2] >> ((i % 2) ? 0 : 4)) & 0xf];
    }

    out[n] = '\0';
}


/* "2026-12-02T04:37:21Z" */

void
cli_rfc3339(long long t, char *out, size_t size)
{
    time_t     tt;
    struct tm  tm;

    tt = (time_t) t;

    if (gmtime_r(&tt, &tm) == NULL
        || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        snprintf(out, size, "1970-01-01T00:00:00Z");
    }
}


/* getopt_long() said '?' (unknown option) or ':' (no value given) */

int
cli_option_error(int c, char **argv)
{
    int          len;
    const char  *arg;

    /*
     * The option's name only: "--secert=whsec_..." or "-Xwhsec_..." may
     * carry a secret after it.
     */

    if (c != ':' && optopt != 0) {
        /* a short option (none takes a value: ':' is a long one's) */
        cli_error("unknown option \"-%c\" (ngx-pay %s --help)", optopt,
                  cli_command);
        return CLI_USAGE;
    }

    arg = argv[optind - 1];
    len = (int) strcspn(arg, "=");

    if (c == ':') {
        cli_error("option \"%.*s\" needs a value", len, arg);

    } else {
        cli_error("unknown option \"%.*s\" (ngx-pay %s --help)", len, arg,
                  cli_command);
    }

    return CLI_USAGE;
}


/* the one argument left after the options: the provider */

int
cli_provider_arg(int argc, char **argv, cli_provider_e *provider)
{
    if (optind >= argc) {
        cli_error("no provider given (stripe, square, standard, paypal)");
        return -1;
    }

    if (optind + 1 < argc) {
        /*
         * Not its value: it may be a misplaced secret.  getopt_long()
         * moved the arguments that are not options to the end, in order:
         * the provider is the first of them, this one the second.
         */
        cli_error("%d arguments besides the options, one expected (the "
                  "provider); the others are not printed", argc - optind);
        return -1;
    }

    return cli_provider(argv[optind], provider);
}
