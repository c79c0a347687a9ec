
/*
 * Copyright (C) ngx_pay authors
 *
 * Provider calls by subrequest (CRAFT.md section 3): an in-memory, waited
 * subrequest with its own method, body and header list.
 *
 * The subrequest's header list is a fresh one holding only the headers
 * the module sets: nginx copies the client's headers into a subrequest,
 * and a proxy_pass would forward them (cookies, the client's
 * Authorization, signatures) to the provider.  With the list replaced,
 * nothing of the client's can leak whatever the internal location says.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_api.h"


static ngx_int_t ngx_http_pay_api_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
static ngx_int_t ngx_http_pay_api_headers(ngx_http_request_t *sr,
    ngx_http_pay_api_call_t *call);
static void ngx_http_pay_api_response(ngx_http_request_t *sr,
    ngx_http_pay_api_call_t *call);
static void ngx_http_pay_api_poll_handler(ngx_event_t *ev);


char *
ngx_http_pay_api_location(ngx_conf_t *cf, ngx_str_t *location,
    const char *directive)
{
    if (location->len == 0) {
        return NGX_CONF_OK;
    }

    if (location->data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" must be a location path starting "
                           "with \"/\"", directive);
        return NGX_CONF_ERROR;
    }

    if (location->len > 1 && location->data[location->len - 1] == '/') {
        location->len--;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_pay_api_uri(ngx_http_request_t *r, ngx_http_pay_api_call_t *call,
    ngx_str_t *location, ngx_str_t *path)
{
    u_char  *p;

    call->uri.len = location->len + path->len;
    call->uri.data = ngx_pnalloc(r->pool, call->uri.len);

    if (call->uri.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(call->uri.data, location->data, location->len);
    ngx_memcpy(p, path->data, path->len);

    return NGX_OK;
}


void
ngx_http_pay_api_poll(ngx_http_request_t *r, ngx_event_t *ev)
{
    ev->handler = ngx_http_pay_api_poll_handler;
    ev->data = r;
    ev->log = r->connection->log;

    ngx_add_timer(ev, NGX_HTTP_PAY_API_POLL);

    r->write_event_handler = ngx_http_core_run_phases;
}


static void
ngx_http_pay_api_poll_handler(ngx_event_t *ev)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_http_log_ctx_t  *lctx;

    r = ev->data;
    c = r->connection;

    lctx = c->log->data;
    lctx->current_request = r;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


void
ngx_http_pay_api_header(ngx_http_pay_api_call_t *call, char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    if (call->nheaders == NGX_HTTP_PAY_API_HEADERS_MAX) {
        return;
    }

    h = &call->headers[call->nheaders++];

    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;
}


ngx_int_t
ngx_http_pay_api_start(ngx_http_request_t *r, ngx_http_pay_api_call_t *call)
{
    ngx_buf_t                    *b;
    ngx_chain_t                  *cl;
    ngx_http_request_t           *sr;
    ngx_http_request_body_t      *rb;
    ngx_http_post_subrequest_t   *ps;

    call->done = 0;
    call->status = 0;
    ngx_str_null(&call->response);

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));

    if (ps == NULL || rb == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_pay_api_done;
    ps->data = call;

    if (ngx_http_subrequest(r, &call->uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * The subrequest would otherwise send the client's body: an empty one
     * for GET (which also keeps the upstream from closing the client
     * body's temporary file, as auth_request notes), ours for POST.
     */

    sr->request_body = rb;
    sr->headers_in.chunked = 0;
    sr->headers_in.content_length = NULL;
    sr->headers_in.transfer_encoding = NULL;

    if (call->method == NGX_HTTP_POST) {
        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);

        if (b == NULL || cl == NULL) {
            return NGX_ERROR;
        }

        b->pos = call->body.data;
        b->last = call->body.data + call->body.len;
        b->start = b->pos;
        b->end = b->last;
        b->memory = 1;
        b->last_buf = 1;
        b->last_in_chain = 1;

        cl->buf = b;
        cl->next = NULL;

        rb->bufs = cl;
        rb->buf = b;

        sr->method = NGX_HTTP_POST;
        ngx_str_set(&sr->method_name, "POST");
        sr->headers_in.content_length_n = call->body.len;

    } else {
        sr->headers_in.content_length_n = -1;
    }

    if (ngx_http_pay_api_headers(sr, call) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the body read may have left ngx_http_request_empty_handler here */
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay api call: %V \"%V\"", &sr->method_name, &call->uri);

    return NGX_OK;
}


/* only our headers: a fresh list (never push to the inherited one) */

static ngx_int_t
ngx_http_pay_api_headers(ngx_http_request_t *sr, ngx_http_pay_api_call_t *call)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *h, *src;

    if (ngx_list_init(&sr->headers_in.headers, sr->pool,
                      NGX_HTTP_PAY_API_HEADERS_MAX, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* pointers into the client's list must not be followed any more */
    sr->headers_in.authorization = NULL;
#if (nginx_version >= 1023000)
    sr->headers_in.cookie = NULL;
#else
    sr->headers_in.cookies.nelts = 0;
#endif

    for (i = 0; i < call->nheaders; i++) {
        src = &call->headers[i];

        h = ngx_list_push(&sr->headers_in.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        *h = *src;

        h->lowcase_key = ngx_pnalloc(sr->pool, src->key.len);
        if (h->lowcase_key == NULL) {
            return NGX_ERROR;
        }

        /* proxy_set_header of the same name then replaces ours */
        h->hash = ngx_hash_strlow(h->lowcase_key, src->key.data,
                                  src->key.len);
    }

    return NGX_OK;
}


/*
 * Runs when the subrequest is finalized, possibly more than once (again
 * after an error page): the first call decides.  The provider answered
 * when the upstream got a status line; a connection error or a timeout
 * leaves status 0.
 */

static ngx_int_t
ngx_http_pay_api_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_pay_api_call_t *call = data;

    if (call->done) {
        return rc;
    }

    call->done = 1;
    call->rc = rc;

    if (sr->upstream != NULL && sr->upstream->headers_in.status_n != 0) {
        call->status = sr->upstream->headers_in.status_n;
        ngx_http_pay_api_response(sr, call);

    } else if (sr->upstream == NULL && rc == NGX_OK) {
        /* a location answering itself (return, static files) */
        call->status = sr->headers_out.status;
        ngx_http_pay_api_response(sr, call);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, sr->connection->log, 0,
                   "pay api call done: rc %i, status %ui, %uz bytes",
                   rc, call->status, call->response.len);

    return rc;
}


/*
 * The body: nginx's postpone filter collects a subrequest's output in
 * sr->out; the upstream module keeps it in its own buffer instead when
 * it reads the response in memory itself.
 */

static void
ngx_http_pay_api_response(ngx_http_request_t *sr,
    ngx_http_pay_api_call_t *call)
{
    ngx_buf_t  *b;

    b = NULL;

    if (sr->out != NULL && sr->out->buf != NULL) {
        b = sr->out->buf;

    } else if (sr->upstream != NULL) {
        b = &sr->upstream->buffer;
    }

    if (b == NULL || b->pos == NULL || !ngx_buf_in_memory(b)) {
        return;
    }

    call->response.data = b->pos;
    call->response.len = b->last - b->pos;
}
