
/*
 * Copyright (C) ngx_pay authors
 */


#ifndef _NGX_HTTP_PAY_MODULE_H_INCLUDED_
#define _NGX_HTTP_PAY_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "pay_error.h"
#include "pay_hmac.h"
#include "pay_kind.h"
#include "pay_paypal.h"
#include "ngx_http_pay_store.h"


/* the same numbers as core's pay_provider_e */
#define NGX_HTTP_PAY_PROVIDER_OFF       0
#define NGX_HTTP_PAY_PROVIDER_STRIPE    1
#define NGX_HTTP_PAY_PROVIDER_SQUARE    2
#define NGX_HTTP_PAY_PROVIDER_PAYPAL    3
#define NGX_HTTP_PAY_PROVIDER_STANDARD  4


/* a status nginx has no constant (nor reason phrase) for */
#define NGX_HTTP_PAY_UNPROCESSABLE      422


/* pay_paypal_verify */
#define NGX_HTTP_PAY_PAYPAL_OFFLINE     0
#define NGX_HTTP_PAY_PAYPAL_API         1


/* where a webhook request is in the access handler */
#define NGX_HTTP_PAY_STATE_BODY       0    /* reading the client body */
#define NGX_HTTP_PAY_STATE_WAIT_BODY  1    /* body read is asynchronous */
#define NGX_HTTP_PAY_STATE_VERIFY     2    /* body complete, not checked;
                                              PayPal's fetches run here */
#define NGX_HTTP_PAY_STATE_CLAIM      3    /* store claim under way */
#define NGX_HTTP_PAY_STATE_CLAIMED    4    /* store answer in ctx->claim */
#define NGX_HTTP_PAY_STATE_DONE       5    /* decision in ctx->status */


/* $pay_dedupe */
#define NGX_HTTP_PAY_DEDUPE_NONE       0    /* not checked: empty */
#define NGX_HTTP_PAY_DEDUPE_NEW        1
#define NGX_HTTP_PAY_DEDUPE_DUPLICATE  2
#define NGX_HTTP_PAY_DEDUPE_IN_FLIGHT  3
#define NGX_HTTP_PAY_DEDUPE_BYPASS     4    /* store down, fail open */
#define NGX_HTTP_PAY_DEDUPE_RETRY      5    /* an earlier outcome unknown */


typedef struct ngx_http_pay_paypal_s       ngx_http_pay_paypal_t;
typedef struct ngx_http_pay_api_call_s     ngx_http_pay_api_call_t;
typedef struct ngx_http_pay_intent_s       ngx_http_pay_intent_t;


typedef struct {
    ngx_uint_t            webhook;      /* NGX_HTTP_PAY_PROVIDER_* */
    ngx_array_t          *secrets;      /* of ngx_str_t, as configured */
    ngx_array_t          *keys;         /* of pay_hmac_key_t *, from secrets */
    ngx_array_t          *sha1_keys;    /* Square's legacy header, or NULL */
    time_t                tolerance;

    /* Square: the notification URL as registered, and the legacy header */
    ngx_http_complex_value_t  *webhook_url;
    ngx_flag_t            square_sha1;
    time_t                square_window;    /* created_at, 0: off */

    /* PayPal */
    ngx_uint_t            paypal_verify;    /* NGX_HTTP_PAY_PAYPAL_* */
    ngx_str_t             paypal_webhook_id;
    ngx_array_t          *paypal_cert_hosts;    /* of ngx_str_t */
    ngx_str_t             paypal_cert_location;
    ngx_str_t             paypal_trusted_certificate;
    pay_paypal_trust_t   *paypal_trust;
    ngx_str_t             paypal_api;           /* internal location */
    ngx_str_t             paypal_client_id;
    ngx_str_t             paypal_basic;     /* "Basic base64(id:secret)" */
    ngx_int_t             paypal_token_slot;    /* in the PayPal zone */
    ngx_shm_zone_t       *paypal_zone;
    u_char                paypal_policy[PAY_PAYPAL_POLICY_ID_LEN];

    /* pay_intent: intent NULL is "off" */
    ngx_http_complex_value_t  *intent;
    ngx_str_t             intent_location;  /* its name, for store keys */
    off_t                 intent_max_amount;
    ngx_http_pay_store_t *idem_store;
    ngx_str_t             idem_name;    /* as configured, "" for default */
    ngx_flag_t            idem;         /* NGX_CONF_UNSET, 0 (off), 1 */
    ngx_msec_t            idem_ttl;
    ngx_msec_t            idem_lock;
    ngx_http_complex_value_t  *idem_scope;
    /* pay_intent_client_fields (intent_fields NULL: unset), pay_intent_set */
    ngx_uint_t            intent_field_bits;
    ngx_array_t          *intent_fields;    /* its metadata.KEY keys */
    ngx_array_t          *intent_sets;      /* NULL: unset */
    ngx_uint_t            breaker_fails;    /* 0: no breaker */
    ngx_msec_t            breaker_cooldown;
    ngx_shm_zone_t       *breaker_zone;
    ngx_int_t             breaker_slot[3];  /* by pay_provider_e - 1 */

    ngx_str_t             stripe_api;
    ngx_str_t             stripe_auth;      /* "Bearer sk_..." */
    ngx_str_t             stripe_version;
    ngx_str_t             square_api;
    ngx_str_t             square_auth;      /* "Bearer ..." */
    ngx_str_t             square_location;
    ngx_str_t             square_version;

    /* pay_dedupe: dedupe_store NULL is "off" once merged */
    ngx_http_pay_store_t *dedupe_store;
    ngx_str_t             dedupe_name;  /* as configured, "" for default */
    ngx_flag_t            dedupe;       /* NGX_CONF_UNSET, 0 (off), 1 */
    ngx_msec_t            dedupe_ttl;
    ngx_msec_t            dedupe_lock;
    ngx_http_complex_value_t  *dedupe_namespace;    /* namespace= */
    ngx_str_t             dedupe_default_ns;    /* server and location */

    ngx_uint_t            store_fail_open;  /* pay_store_fail open */

    /* pay_log_level: a client fault's first line per code and minute */
    ngx_uint_t            log_level;
    /* of ngx_http_pay_status_series_t *: by secret (the counters) */
    ngx_array_t          *status_secrets;

    /* where pay_webhook was set, for configuration error messages */
    u_char               *webhook_file;
    ngx_uint_t            webhook_line;
} ngx_http_pay_loc_conf_t;


typedef struct {
    ngx_uint_t            state;        /* NGX_HTTP_PAY_STATE_* */
    ngx_int_t             status;       /* handler result once DONE */
    ngx_uint_t            provider;     /* NGX_HTTP_PAY_PROVIDER_* */
    pay_rc_e              error;        /* the rejection, PAY_OK if none */

    ngx_str_t             body;         /* the raw body, once read */

    ngx_str_t             event_id;
    ngx_str_t             event_type;
    ngx_int_t             livemode;     /* 1, 0, -1: unknown */

    /* dedupe: the claim and what came of it */
    ngx_http_request_t   *request;
    ngx_uint_t            dedupe;       /* NGX_HTTP_PAY_DEDUPE_* */
    ngx_http_pay_store_t *store;
    ngx_http_pay_store_op_t  claim;
    ngx_msec_t            dedupe_ttl;   /* of the claiming location */

    /* wait=: the completion confirmed before the app's answer goes out */
    ngx_http_pay_store_op_t  confirm;
    ngx_chain_t          *held;         /* the answer's body meanwhile */

    const char           *event_kind;   /* $pay_event_kind, static */
    size_t                secret;       /* $pay_secret: 1-based, 0: none */
    ngx_array_t          *status_secrets;   /* the location's counters */

    /* PayPal's certificate and token fetches, NULL for other providers */
    ngx_http_pay_paypal_t   *paypal;

    /* payment-intent creation, NULL for webhooks */
    ngx_http_pay_intent_t   *intent;

    /* nginx's own 413 while reading the body, answered as ours */
    ngx_str_t             problem;
    ngx_uint_t            uri_changes;  /* r->uri_changes then */

    unsigned              verified:1;
    unsigned              claimed:1;    /* ours until completed/released */
    unsigned              problem_sent:1;
    unsigned              holding:1;    /* the app's answer, until
                                           the completion's confirmed */
} ngx_http_pay_ctx_t;


extern ngx_module_t  ngx_http_pay_module;


/* ngx_http_pay_handler.c: the request context and the phase handlers */
ngx_int_t ngx_http_pay_handler_init(ngx_conf_t *cf);
ngx_http_pay_ctx_t *ngx_http_pay_create_ctx(ngx_http_request_t *r);
ngx_http_pay_ctx_t *ngx_http_pay_get_ctx(ngx_http_request_t *r);

/* ngx_http_pay_status_page.c: pay_status, the page and the health */
char *ngx_http_pay_status_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_pay_status_page_init(ngx_conf_t *cf);

/* ngx_http_pay_variables.c */
ngx_int_t ngx_http_pay_add_variables(ngx_conf_t *cf);

/* ngx_http_pay_secret.c */
ngx_int_t ngx_http_pay_secret_load(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *value, ngx_str_t *secret);

/* ngx_http_pay_body.c */
ngx_int_t ngx_http_pay_body_get(ngx_http_request_t *r, ngx_str_t *body,
    size_t max);

/* ngx_http_pay_headers.c */
ngx_int_t ngx_http_pay_find_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_table_elt_t **found);
ngx_int_t ngx_http_pay_one_header(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_str_t *name, ngx_table_elt_t **found,
    const char **value, size_t *len);
ngx_int_t ngx_http_pay_strip_client_headers(ngx_http_request_t *r);

/* ngx_http_pay_response.c */
ngx_int_t ngx_http_pay_reject(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    pay_rc_e rc, const char *detail);
ngx_int_t ngx_http_pay_reject_retry(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, pay_rc_e rc, const char *detail,
    time_t retry_after);
ngx_int_t ngx_http_pay_answer(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *json);
ngx_int_t ngx_http_pay_answer_as(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_uint_t status, ngx_str_t *type,
    ngx_str_t *body, ngx_uint_t replayed);
ngx_int_t ngx_http_pay_reject_body(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, pay_rc_e rc, const char *detail,
    ngx_uint_t status, u_char *body, size_t len);
ngx_int_t ngx_http_pay_replace_too_large(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx);
ngx_int_t ngx_http_pay_problem_chain(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_chain_t *out);



#endif /* _NGX_HTTP_PAY_MODULE_H_INCLUDED_ */
