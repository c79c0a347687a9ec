
/*
 * Copyright (C) ngx_pay authors
 *
 * Payment intents: what the rest of the module calls (the directives,
 * the merge, the steps, the capture, the variables), and what the intent
 * files share between themselves (the intent's state in the request
 * context, its steps, and the functions one file lends another).
 * ngx_http_pay_intent.c has the map of the files.
 */


#ifndef _NGX_HTTP_PAY_INTENT_H_INCLUDED_
#define _NGX_HTTP_PAY_INTENT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_api.h"
#include "ngx_http_pay_paypal_token.h"
#include "pay_idempotency.h"
#include "pay_intent.h"
#include "pay_intent_result.h"
#include "pay_provider_api.h"


/* where a request is in its intent steps */
#define NGX_HTTP_PAY_INTENT_PARSE         0
#define NGX_HTTP_PAY_INTENT_CLAIMED       1    /* lock claim answered */
#define NGX_HTTP_PAY_INTENT_LOOKED_UP     2    /* created record answered */
#define NGX_HTTP_PAY_INTENT_ATTEMPT       3    /* next provider */
#define NGX_HTTP_PAY_INTENT_TOKEN         4    /* PayPal's token */
#define NGX_HTTP_PAY_INTENT_CALLED        5    /* provider answered */
#define NGX_HTTP_PAY_INTENT_SAVE_CLAIMED  6
#define NGX_HTTP_PAY_INTENT_SAVED         7
#define NGX_HTTP_PAY_INTENT_FORWARD       8    /* to the app or answered */


/* $pay_idempotency */
#define NGX_HTTP_PAY_IDEM_NONE            0
#define NGX_HTTP_PAY_IDEM_NEW             1
#define NGX_HTTP_PAY_IDEM_REPLAYED        2
#define NGX_HTTP_PAY_IDEM_CONFLICT        3
#define NGX_HTTP_PAY_IDEM_MISMATCH        4
#define NGX_HTTP_PAY_IDEM_RESUMED         5


/* not in every nginx's ngx_http_request.h */
#define NGX_HTTP_PAY_PAYMENT_REQUIRED     402


#define NGX_HTTP_PAY_INTENT_PROVIDERS     8
#define NGX_HTTP_PAY_INTENT_ATTEMPTS_LEN  256

/* what an outage asks the client to wait before retrying, seconds */
#define NGX_HTTP_PAY_INTENT_RETRY_AFTER   5


struct ngx_http_pay_intent_s {
    ngx_http_pay_loc_conf_t      *plcf;     /* of the location it began in */
    ngx_uint_t                    step;
    ngx_uint_t                    idempotency;      /* $pay_idempotency */

    pay_intent_request_t          req;
    unsigned                      parsed:1;

    char                          key[PAY_IDEMPOTENCY_KEY_MAX + 1];
    size_t                        key_len;
    char                          store_key[PAY_IDEMPOTENCY_HASH_LEN + 1];
    char                          fingerprint[PAY_IDEMPOTENCY_HASH_LEN + 1];

    /* pay_intent_set's names and values, for the fingerprint */
    pay_idempotency_part_t       *set_parts;
    ngx_uint_t                    nset_parts;

    ngx_http_pay_store_t         *store;
    ngx_http_pay_store_op_t       op;               /* the one under way */
    ngx_str_t                     lock_key;
    ngx_str_t                     lock_token;
    ngx_str_t                     created_key;
    ngx_str_t                     created_token;
    ngx_msec_t                    ttl;

    /* the providers to try, in order, and how far we are */
    pay_provider_e                providers[NGX_HTTP_PAY_INTENT_PROVIDERS];
    ngx_uint_t                    nproviders;
    ngx_uint_t                    next;
    pay_provider_e                provider;         /* the current one */

    u_char                        attempts[NGX_HTTP_PAY_INTENT_ATTEMPTS_LEN];
    size_t                        attempts_len;

    ngx_http_pay_api_call_t       call;
    ngx_http_pay_paypal_token_t   token;
    char                          provider_key
                                      [PAY_IDEMPOTENCY_PROVIDER_KEY_LEN + 1];
    ngx_str_t                     provider_key_str;
    ngx_str_t                     content_type;     /* of the call */

    pay_provider_answer_t         answer;
    pay_intent_result_t           result;
    ngx_str_t                     result_json;

    /* the final answer on its way out, for the lock's completion */
    ngx_uint_t                    out_status;
    ngx_str_t                     out_type;
    u_char                       *out;
    size_t                        out_len;
    size_t                        out_size;

    unsigned                      locked:1;     /* the lock claim is ours */
    unsigned                      capture:1;    /* save what goes out */
    unsigned                      overflow:1;   /* too big to save */
    unsigned                      complete:1;   /* its last buffer seen */
};


/*
 * For the rest of the module.  What runs for a request is given the main
 * request's context by its caller, and never looks it up.
 */

/* ngx_http_pay_intent_conf.c */
char *ngx_http_pay_intent_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_pay_idempotency_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_pay_breaker_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_pay_bearer_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_pay_client_fields_directive(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_pay_intent_set_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_pay_intent_merge(ngx_conf_t *cf, ngx_http_pay_loc_conf_t *prev,
    ngx_http_pay_loc_conf_t *conf);

/* ngx_http_pay_intent.c */
ngx_int_t ngx_http_pay_intent_start(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx);
ngx_int_t ngx_http_pay_intent_process(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx);
void ngx_http_pay_intent_finish(ngx_http_pay_ctx_t *ctx);
void ngx_http_pay_intent_free(ngx_http_pay_ctx_t *ctx);
void ngx_http_pay_intent_exit_process(void);
ngx_int_t ngx_http_pay_intent_variable(ngx_http_pay_ctx_t *ctx,
    ngx_http_variable_value_t *v, uintptr_t data);

/* ngx_http_pay_intent_capture.c: the main request's answer going out */
ngx_int_t ngx_http_pay_intent_capture_header(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx);
void ngx_http_pay_intent_capture_body(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_chain_t *in);


/*
 * Between the intent files.  The steps (claimed, looked_up, attempt,
 * token, called, save) return NGX_DECLINED: go on at in->step now;
 * NGX_AGAIN: a store operation or a subrequest resumes the phases later;
 * anything else: the answer was sent, and that is the handler's result.
 */

/* ngx_http_pay_intent_conf.c: what the location's directives make of it */
void ngx_http_pay_intent_policy(ngx_http_pay_loc_conf_t *plcf,
    pay_intent_policy_t *policy);
ngx_int_t ngx_http_pay_intent_settings(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);

/* ngx_http_pay_intent_route.c: the providers, in order, and the calls */
ngx_int_t ngx_http_pay_intent_route(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);
ngx_int_t ngx_http_pay_intent_attempt(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);
ngx_int_t ngx_http_pay_intent_token(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);
ngx_int_t ngx_http_pay_intent_called(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);

/* ngx_http_pay_intent_record.c: the key's records in the store */
ngx_int_t ngx_http_pay_intent_keys(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_intent_t *in);
ngx_int_t ngx_http_pay_intent_claimed(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);
ngx_int_t ngx_http_pay_intent_looked_up(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);
ngx_int_t ngx_http_pay_intent_save(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in);
ngx_int_t ngx_http_pay_intent_store(ngx_http_request_t *r,
    ngx_http_pay_intent_t *in, ngx_http_pay_store_op_pt op, ngx_str_t *key,
    ngx_str_t *token, ngx_str_t *value, ngx_msec_t ttl);
void ngx_http_pay_intent_release(ngx_http_pay_intent_t *in, ngx_log_t *log);
ngx_int_t ngx_http_pay_intent_unavailable(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_intent_t *in, pay_rc_e rc,
    const char *detail);


#endif /* _NGX_HTTP_PAY_INTENT_H_INCLUDED_ */
