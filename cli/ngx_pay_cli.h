
/*
 * Copyright (C) ngx_pay authors
 *
 * ngx-pay, the command-line companion of the module (docs/cli.md): sign
 * and send test deliveries, verify captured ones, backfill missed Stripe
 * events.  A plain program: libcurl, OpenSSL, jansson and the module's
 * pure core (ngx_pay_module/core/), never an nginx header.  Every
 * signature it makes or checks comes from core.
 */


#ifndef NGX_PAY_CLI_H_INCLUDED_
#define NGX_PAY_CLI_H_INCLUDED_


#include <stddef.h>
#include <stdio.h>


/* exit statuses (docs/cli.md#exit-statuses) */
#define CLI_OK          0   /* done, and the outcome is the one wanted */
#define CLI_FAIL        1   /* done, and it is not (refused, unreachable) */
#define CLI_USAGE       2   /* bad input: nothing was sent */

#define CLI_HEADERS_MAX 8
#define CLI_SECRET_MAX  4096        /* as the module's file: secrets */
#define CLI_BODY_MAX    (16 * 1024 * 1024)


typedef enum {
    CLI_STRIPE = 0,
    CLI_SQUARE,
    CLI_STANDARD,
    CLI_PAYPAL
} cli_provider_e;


typedef struct {
    unsigned char  *data;       /* malloc'd, one spare byte for a NUL */
    size_t          len;
} cli_buf_t;


typedef struct {
    size_t          n;
    char           *name[CLI_HEADERS_MAX];     /* static strings */
    char           *value[CLI_HEADERS_MAX];    /* malloc'd */
} cli_headers_t;


/* what signing a body needs (sign, send, backfill) */
typedef struct {
    cli_provider_e  provider;
    cli_buf_t       secret;     /* stripe, square, standard */
    const char     *url;        /* square: the notification URL */
    const char     *id;         /* standard: webhook-id; paypal: the
                                   transmission id; NULL: a random one */
    long long       t;          /* the signing time, Unix seconds */
    const char     *key_file;   /* paypal: the private key, PEM */
    const char     *cert_url;   /* paypal: paypal-cert-url */
    const char     *webhook_id; /* paypal: the webhook id signed */
} cli_sign_t;


typedef struct {
    long            status;
    cli_buf_t       head;       /* the status line and the headers */
    cli_buf_t       body;
} cli_response_t;


/* ngx_pay_cli.c: what every command shares */
extern const char  *cli_command;

const char *cli_shown_word(const char *word);
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
int cli_provider(const char *name, cli_provider_e *provider);
const char *cli_provider_name(cli_provider_e provider);
int cli_secret_load(const char *option, const char *value, cli_buf_t *out);
void cli_buf_free(cli_buf_t *buf);
void cli_buf_wipe(cli_buf_t *buf);
int cli_read_stream(FILE *f, const char *what, cli_buf_t *out);
int cli_read_file(const char *path, cli_buf_t *out);
int cli_json_object(const unsigned char *data, size_t len);
int cli_parse_number(const char *s, long long min, long long max,
    long long *n);
int cli_parse_since(const char *s, long long now, long long *t);
void cli_random_hex(char *out, size_t n);
void cli_rfc3339(long long t, char *out, size_t size);
int cli_option_error(int c, char **argv);
int cli_provider_arg(int argc, char **argv, cli_provider_e *provider);

/* ngx_pay_cli_sign.c */
int cli_sign_headers(const cli_sign_t *s, const unsigned char *body,
    size_t len, cli_headers_t *out);
void cli_headers_free(cli_headers_t *h);
int cli_sign(int argc, char **argv);

/* ngx_pay_cli_http.c */
int cli_http_init(void);
void cli_http_cleanup(void);
int cli_http(const char *method, const char *url, const char *bearer,
    const cli_headers_t *headers, const unsigned char *body, size_t len,
    long timeout, cli_response_t *res);
void cli_response_free(cli_response_t *res);
long long cli_response_retry_after(const cli_response_t *res);
int cli_url_plain_remote(const char *url);
void cli_url_redact(const char *url, char *out, size_t size);
int cli_response_duplicate(const cli_response_t *res);
int cli_response_code(const cli_response_t *res, char *code, size_t size);
const char *cli_response_outcome(const cli_response_t *res, char *code,
    size_t size);

/* the commands */
int cli_send(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_backfill(int argc, char **argv);


#endif /* NGX_PAY_CLI_H_INCLUDED_ */
