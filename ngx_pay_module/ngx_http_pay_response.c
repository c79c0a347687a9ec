
/*
 * Copyright (C) ngx_pay authors
 *
 * Responses the module makes itself.  A rejection is one error-log line
 * naming its stable code, $pay_error, and an application/problem+json body
 * (RFC 9457) whose "code" is that same code.
 *
 * The line's level (docs/errors.md, "Log lines"): in each worker, the
 * first rejection of a code in a minute is logged at pay_log_level (error
 * by default) for the client's faults and at error for ours, the rest of
 * that minute at info for the client's and at warn for ours, so that a
 * misconfiguration shows with error_log at its default level and an
 * attack or an outage cannot flood the log.  Always at info: in_flight,
 * idempotency_conflict and provider_error, which are how things go, and
 * store_unavailable, whose outage ngx_http_pay_store_outage() logs.
 *
 * One rejection is not the module's to send: a chunked body that grows
 * over client_max_body_size makes nginx's body read fail with 413, and
 * nginx finalizes the request with its own HTML page (closing the
 * connection, so the rest of the body is never read as a request).  The
 * filters of ngx_http_pay_handler.c, which know when that page is the
 * body read's, turn it into the module's body_too_large with
 * ngx_http_pay_replace_too_large() and ngx_http_pay_problem_chain().
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"


static ngx_int_t ngx_http_pay_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, u_char *body, size_t len);
static void ngx_http_pay_log_rejection(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, pay_rc_e rc, const char *detail);
static u_char *ngx_http_pay_problem(ngx_http_request_t *r, pay_rc_e rc,
    const char *detail, size_t *len);


/* per worker: when each code's current minute began, 0 for never */
static time_t  ngx_http_pay_log_minute[PAY_ERR_LAST];


static ngx_str_t  ngx_http_pay_problem_type =
    ngx_string("application/problem+json");
static ngx_str_t  ngx_http_pay_json_type = ngx_string("application/json");


static const char  ngx_http_pay_too_large_detail[] =
    "the body is larger than client_max_body_size";


/*
 * Sends the problem response and finalizes the request: the caller (a
 * phase handler) returns NGX_DONE afterwards.
 */

ngx_int_t
ngx_http_pay_reject(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    pay_rc_e rc, const char *detail)
{
    return ngx_http_pay_reject_retry(r, ctx, rc, detail, 0);
}


/* the same, with "Retry-After: <seconds>" unless retry_after is 0 */

ngx_int_t
ngx_http_pay_reject_retry(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    pay_rc_e rc, const char *detail, time_t retry_after)
{
    u_char            *body, *p;
    size_t             len;
    ngx_int_t          ret;
    ngx_table_elt_t   *h;

    if (detail == NULL) {
        detail = pay_error_info(rc)->title;
    }

    ngx_http_pay_log_rejection(r, ctx, rc, detail);

    body = ngx_http_pay_problem(r, rc, detail, &len);
    if (body == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_DONE;
    }

    if (rc == PAY_ERR_METHOD_NOT_ALLOWED) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return NGX_DONE;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Allow");
        ngx_str_set(&h->value, "POST");
    }

    if (retry_after) {
        p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        h = ngx_list_push(&r->headers_out.headers);

        if (p == NULL || h == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return NGX_DONE;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Retry-After");
        h->value.data = p;
        h->value.len = ngx_sprintf(p, "%T", retry_after) - p;
    }

    ret = ngx_http_pay_send(r, pay_error_info(rc)->status,
                            &ngx_http_pay_problem_type, body, len);

    ngx_http_finalize_request(r, ret);

    return NGX_DONE;
}


/*
 * A rejection whose problem+json body was made elsewhere (core/ lists
 * the failing fields of an intent, or the provider's refusal), with its
 * own status; logged and finalized as above.
 */

ngx_int_t
ngx_http_pay_reject_body(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    pay_rc_e rc, const char *detail, ngx_uint_t status, u_char *body,
    size_t len)
{
    ngx_int_t  ret;

    ngx_http_pay_log_rejection(r, ctx, rc, detail);

    ret = ngx_http_pay_send(r, status, &ngx_http_pay_problem_type, body, len);

    ngx_http_finalize_request(r, ret);

    return NGX_DONE;
}


/* the problem+json body of a rejection with a fixed code and detail */

static u_char *
ngx_http_pay_problem(ngx_http_request_t *r, pay_rc_e rc, const char *detail,
    size_t *len)
{
    u_char                  *body, *last;
    size_t                   size;
    const pay_error_info_t  *info;

    info = pay_error_info(rc);

    size = sizeof("{\"type\":\"urn:ngx-pay:error:\",\"title\":\"\","
                  "\"status\":,\"detail\":\"\",\"code\":\"\"}\n") - 1
           + 2 * ngx_strlen(info->code) + ngx_strlen(info->title)
           + NGX_INT_T_LEN + ngx_strlen(detail);

    body = ngx_pnalloc(r->pool, size);
    if (body == NULL) {
        return NULL;
    }

    /* codes, titles and details are fixed ASCII: nothing to escape */
    last = ngx_sprintf(body, "{\"type\":\"urn:ngx-pay:error:%s\","
                       "\"title\":\"%s\",\"status\":%d,\"detail\":\"%s\","
                       "\"code\":\"%s\"}\n",
                       info->code, info->title, info->status, detail,
                       info->code);

    *len = last - body;

    return body;
}


static void
ngx_http_pay_log_rejection(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    pay_rc_e rc, const char *detail)
{
    time_t                    now;
    ngx_uint_t                level, first;
    const char               *who;
    const pay_error_info_t   *info;
    ngx_http_pay_loc_conf_t  *plcf;

    info = pay_error_info(rc);
    plcf = ngx_http_get_module_loc_conf(r, ngx_http_pay_module);

    first = 0;

    if ((ngx_uint_t) rc < PAY_ERR_LAST) {
        now = ngx_time();

        if (ngx_http_pay_log_minute[rc] == 0
            || now - ngx_http_pay_log_minute[rc] >= 60)
        {
            ngx_http_pay_log_minute[rc] = now;
            first = 1;
        }
    }

    switch (rc) {

    case PAY_ERR_STORE_UNAVAILABLE:
        /* the outage is logged by ngx_http_pay_store_outage() */
    case PAY_ERR_IN_FLIGHT:
    case PAY_ERR_IDEMPOTENCY_CONFLICT:
        /* a concurrent delivery or retry: how things are */
    case PAY_ERR_PROVIDER_ERROR:
        /* a declined card: the payment's fault, not the configuration's */
        level = NGX_LOG_INFO;
        break;

    default:
        if (info->client_fault) {
            level = first ? plcf->log_level : NGX_LOG_INFO;

        } else {
            level = first ? NGX_LOG_ERR : NGX_LOG_WARN;
        }

        break;
    }

    who = (ctx->intent != NULL) ? "intent"
                                : pay_provider_name(ctx->provider);

    ngx_log_error(level, r->connection->log, 0,
                  "pay: %s rejected: %s (%s)", who, info->code,
                  detail ? detail : info->title);

    ctx->error = rc;
    ctx->state = NGX_HTTP_PAY_STATE_DONE;
    ctx->status = NGX_DONE;
}


/*
 * An answer of the module's own, of any type (a replayed one carries
 * "Idempotent-Replayed: true"), then the request is finalized; the caller
 * returns NGX_DONE.
 */

ngx_int_t
ngx_http_pay_answer_as(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *type, ngx_str_t *body,
    ngx_uint_t replayed)
{
    ngx_int_t         rc;
    ngx_table_elt_t  *h;

    ctx->state = NGX_HTTP_PAY_STATE_DONE;
    ctx->status = NGX_DONE;

    if (replayed) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return NGX_DONE;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Idempotent-Replayed");
        ngx_str_set(&h->value, "true");
    }

    rc = ngx_http_pay_send(r, status, type, body->data, body->len);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/*
 * A successful answer of the module's own (a duplicate delivery): JSON,
 * then the request is finalized; the caller returns NGX_DONE.
 */

ngx_int_t
ngx_http_pay_answer(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_uint_t status, ngx_str_t *json)
{
    return ngx_http_pay_answer_as(r, ctx, status, &ngx_http_pay_json_type,
                                  json, 0);
}


static ngx_int_t
ngx_http_pay_send(ngx_http_request_t *r, ngx_uint_t status, ngx_str_t *type,
    u_char *body, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    /* an unread body must not be taken for the next pipelined request */
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    if (status >= NGX_HTTP_BAD_REQUEST) {
        /* nginx's own error responses do the same: no stale validators */
        ngx_http_clear_accept_ranges(r);
        ngx_http_clear_last_modified(r);
        ngx_http_clear_etag(r);
    }

    r->headers_out.status = status;

    if (status == NGX_HTTP_PAY_UNPROCESSABLE) {
        /* nginx's table of reason phrases has none for 422 */
        ngx_str_set(&r->headers_out.status_line,
                    "422 Unprocessable Content");
    }

    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * nginx's own 413 page for a body read that failed becomes the module's
 * body_too_large: its headers here, its body from ngx_http_pay_problem_chain()
 * (ngx_http_pay_handler.c's filters decide when).
 */

ngx_int_t
ngx_http_pay_replace_too_large(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx)
{
    u_char  *body;
    size_t   len;

    ngx_http_pay_log_rejection(r, ctx, PAY_ERR_BODY_TOO_LARGE,
                               ngx_http_pay_too_large_detail);

    body = ngx_http_pay_problem(r, PAY_ERR_BODY_TOO_LARGE,
                                ngx_http_pay_too_large_detail, &len);
    if (body == NULL) {
        return NGX_ERROR;
    }

    ctx->problem.data = body;
    ctx->problem.len = len;

    r->headers_out.content_type = ngx_http_pay_problem_type;
    r->headers_out.content_type_len = ngx_http_pay_problem_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return NGX_OK;
}


/* the replacement body, all of it in one last buffer */

ngx_int_t
ngx_http_pay_problem_chain(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_chain_t *out)
{
    ngx_buf_t  *b;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = ctx->problem.data;
    b->last = ctx->problem.data + ctx->problem.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out->buf = b;
    out->next = NULL;

    return NGX_OK;
}
