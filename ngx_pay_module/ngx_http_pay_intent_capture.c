
/*
 * Copyright (C) ngx_pay authors
 *
 * The capture of an intent request's final answer: the app's, through
 * proxy_pass, or the module's.  Once FORWARD or a provider's refusal has
 * turned capture on, the main request's status, content type and body
 * are copied into the intent as they go out, for
 * ngx_http_pay_intent_finish() to save them with the lock; nothing of a
 * 409, a replay or an error is kept.  A body over the store's largest
 * value, or any of it in a file, sets the overflow flag and stops the
 * copy.
 *
 * The caller has found the main request's context: these functions never
 * look it up.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_intent.h"


/* the content type a saved answer may have */
#define NGX_HTTP_PAY_INTENT_TYPE_MAX      256


/*
 * The status and content type, from the main request's header filter.
 * NGX_OK: nothing here fails (a content type that cannot be copied is
 * left out of the record).
 */

ngx_int_t
ngx_http_pay_intent_capture_header(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx)
{
    ngx_http_pay_intent_t  *in;

    if (ctx->intent == NULL || !ctx->intent->capture) {
        return NGX_OK;
    }

    in = ctx->intent;

    in->out_status = r->headers_out.status;
    in->out_type.len = 0;

    if (r->headers_out.content_type.len
        && r->headers_out.content_type.len <= NGX_HTTP_PAY_INTENT_TYPE_MAX)
    {
        in->out_type.data = ngx_pstrdup(r->pool,
                                        &r->headers_out.content_type);
        if (in->out_type.data != NULL) {
            in->out_type.len = r->headers_out.content_type.len;
        }
    }

    return NGX_OK;
}


/* the body, from the main request's body filter: in is not changed */

void
ngx_http_pay_intent_capture_body(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_chain_t *in)
{
    u_char                 *p;
    size_t                  len, size;
    ngx_chain_t            *cl;
    ngx_http_pay_intent_t  *pi;

    if (ctx->intent == NULL || !ctx->intent->capture
        || ctx->intent->overflow)
    {
        return;
    }

    pi = ctx->intent;

    for (cl = in; cl; cl = cl->next) {

        if (cl->buf->last_buf) {
            pi->complete = 1;
        }

        if (!ngx_buf_in_memory(cl->buf)) {
            if (ngx_buf_size(cl->buf) > 0) {
                /* a response spooled to a file: too big to keep */
                pi->overflow = 1;
                break;
            }

            continue;
        }

        len = cl->buf->last - cl->buf->pos;

        if (len == 0) {
            continue;
        }

        if (pi->out_len + len > pi->out_size) {
            size = ngx_max(2 * pi->out_size, pi->out_len + len);
            size = ngx_max(size, 1024);

            if (size > NGX_HTTP_PAY_STORE_VALUE_MAX) {
                pi->overflow = 1;
                break;
            }

            p = ngx_pnalloc(r->pool, size);
            if (p == NULL) {
                pi->overflow = 1;
                break;
            }

            if (pi->out_len) {
                ngx_memcpy(p, pi->out, pi->out_len);
            }

            pi->out = p;
            pi->out_size = size;
        }

        ngx_memcpy(pi->out + pi->out_len, cl->buf->pos, len);
        pi->out_len += len;
    }
}
