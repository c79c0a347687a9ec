
/*
 * Copyright (C) ngx_pay authors
 *
 * The $pay_* variables: what the request context of the main request
 * (ngx_http_pay_handler.c) says about it.
 *
 * Variables are NOCACHEABLE: subrequests share r->variables with their
 * parent, so a value cached too early (say, by a log_format) would stick
 * for the whole request tree.  They describe the main request.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_version.h"
#include "ngx_http_pay_intent.h"


static ngx_int_t ngx_http_pay_variable_provider(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_pay_variable_verified(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_pay_variable_event_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_pay_variable_livemode(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_pay_variable_kind(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_pay_variable_secret(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_pay_variable_error(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_pay_variable_dedupe(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_pay_variable_dedupe_key(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_pay_variable_intent(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_pay_variable_version(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void ngx_http_pay_variable_set(ngx_http_variable_value_t *v,
    u_char *data, size_t len);


static ngx_http_variable_t  ngx_http_pay_vars[] = {

    { ngx_string("pay_provider"), NULL, ngx_http_pay_variable_provider,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_verified"), NULL, ngx_http_pay_variable_verified,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_event_id"), NULL, ngx_http_pay_variable_event_str,
      offsetof(ngx_http_pay_ctx_t, event_id), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_event_type"), NULL, ngx_http_pay_variable_event_str,
      offsetof(ngx_http_pay_ctx_t, event_type), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_event_livemode"), NULL, ngx_http_pay_variable_livemode,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_event_kind"), NULL, ngx_http_pay_variable_kind,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_secret"), NULL, ngx_http_pay_variable_secret,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_error"), NULL, ngx_http_pay_variable_error,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_dedupe"), NULL, ngx_http_pay_variable_dedupe,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_dedupe_key"), NULL, ngx_http_pay_variable_dedupe_key,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_request_amount"), NULL, ngx_http_pay_variable_intent,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_request_currency"), NULL, ngx_http_pay_variable_intent,
      1, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_intent_provider"), NULL, ngx_http_pay_variable_intent,
      2, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_intent_id"), NULL, ngx_http_pay_variable_intent,
      3, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_intent_status"), NULL, ngx_http_pay_variable_intent,
      4, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_intent_client_secret"), NULL,
      ngx_http_pay_variable_intent, 5, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_intent_approve_url"), NULL,
      ngx_http_pay_variable_intent, 6, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_intent_json"), NULL, ngx_http_pay_variable_intent,
      7, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_idempotency"), NULL, ngx_http_pay_variable_intent,
      8, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_intent_attempts"), NULL, ngx_http_pay_variable_intent,
      9, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("pay_version"), NULL, ngx_http_pay_variable_version,
      0, 0, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_pay_dedupe_names[] = {
    ngx_null_string,                /* NGX_HTTP_PAY_DEDUPE_NONE */
    ngx_string("new"),
    ngx_string("duplicate"),
    ngx_string("in_flight"),
    ngx_string("bypass"),
    ngx_string("retry")
};


ngx_int_t
ngx_http_pay_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_pay_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_variable_provider(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char          *name;
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_pay_get_ctx(r->main);

    if (ctx == NULL || ctx->provider == NGX_HTTP_PAY_PROVIDER_OFF) {
        v->not_found = 1;
        return NGX_OK;
    }

    name = pay_provider_name(ctx->provider);
    ngx_http_pay_variable_set(v, (u_char *) name, ngx_strlen(name));

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_variable_verified(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_pay_get_ctx(r->main);

    if (ctx != NULL && ctx->verified) {
        ngx_http_pay_variable_set(v, (u_char *) "1", 1);

    } else {
        ngx_http_pay_variable_set(v, (u_char *) "", 0);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_variable_event_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t           *s;
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_pay_get_ctx(r->main);

    if (ctx == NULL || !ctx->verified) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((u_char *) ctx + data);
    ngx_http_pay_variable_set(v, s->data, s->len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_variable_livemode(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_pay_get_ctx(r->main);

    if (ctx == NULL || !ctx->verified || ctx->livemode == -1) {
        ngx_http_pay_variable_set(v, (u_char *) "", 0);

    } else if (ctx->livemode) {
        ngx_http_pay_variable_set(v, (u_char *) "true", 4);

    } else {
        ngx_http_pay_variable_set(v, (u_char *) "false", 5);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_variable_kind(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_pay_get_ctx(r->main);

    if (ctx == NULL || !ctx->verified || ctx->event_kind == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_pay_variable_set(v, (u_char *) ctx->event_kind,
                              ngx_strlen(ctx->event_kind));

    return NGX_OK;
}


/* the 1-based position of the pay_webhook_secret that verified */

static ngx_int_t
ngx_http_pay_variable_secret(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char              *p;
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_pay_get_ctx(r->main);

    if (ctx == NULL || ctx->secret == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_SIZE_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_pay_variable_set(v, p, ngx_sprintf(p, "%uz", ctx->secret) - p);

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_variable_error(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char          *code;
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_pay_get_ctx(r->main);

    if (ctx == NULL || ctx->error == PAY_OK) {
        v->not_found = 1;
        return NGX_OK;
    }

    code = pay_error_info(ctx->error)->code;
    ngx_http_pay_variable_set(v, (u_char *) code, ngx_strlen(code));

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_variable_dedupe(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t           *name;
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_pay_get_ctx(r->main);

    if (ctx == NULL) {
        ngx_http_pay_variable_set(v, (u_char *) "", 0);
        return NGX_OK;
    }

    name = &ngx_http_pay_dedupe_names[ctx->dedupe];
    ngx_http_pay_variable_set(v, name->data, name->len);

    return NGX_OK;
}


/* the store key the event was claimed under (before a Redis prefix) */

static ngx_int_t
ngx_http_pay_variable_dedupe_key(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_pay_ctx_t  *ctx;

    ctx = ngx_http_pay_get_ctx(r->main);

    if (ctx == NULL || ctx->intent != NULL) {
        ngx_http_pay_variable_set(v, (u_char *) "", 0);
        return NGX_OK;
    }

    ngx_http_pay_variable_set(v, ctx->claim.key.data, ctx->claim.key.len);

    return NGX_OK;
}


/* $pay_request_*, $pay_intent_*, $pay_idempotency */

static ngx_int_t
ngx_http_pay_variable_intent(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_pay_intent_variable(ngx_http_pay_get_ctx(r->main), v,
                                        data);
}


/* the module's version, for a response header or a log line */

static ngx_int_t
ngx_http_pay_variable_version(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_pay_variable_set(v, (u_char *) NGX_PAY_VERSION,
                              sizeof(NGX_PAY_VERSION) - 1);

    return NGX_OK;
}


static void
ngx_http_pay_variable_set(ngx_http_variable_value_t *v, u_char *data,
    size_t len)
{
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = data;
}
