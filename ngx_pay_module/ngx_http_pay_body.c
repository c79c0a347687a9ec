
/*
 * Copyright (C) ngx_pay authors
 *
 * The raw client body, byte for byte, as one contiguous string: signatures
 * are computed over it and the JSON parser reads it.  The body may be one
 * memory buffer (the common case: no copy), several buffers, or spooled to
 * a temporary file when larger than client_body_buffer_size.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"


ngx_int_t
ngx_http_pay_body_get(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    size_t        len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = NULL;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += ngx_buf_in_memory(b) ? (size_t) (b->last - b->pos)
                                    : (size_t) (b->file_last - b->file_pos);
    }

    if (len == 0) {
        return NGX_OK;
    }

    cl = r->request_body->bufs;

    if (cl->next == NULL && ngx_buf_in_memory(cl->buf)) {
        body->data = cl->buf->pos;
        body->len = len;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;
    body->len = len;

    for ( /* void */ ; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (n != b->file_last - b->file_pos) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          ngx_read_file_n " read only %z of %O from \"%V\"",
                          n, b->file_last - b->file_pos, &b->file->name);
            return NGX_ERROR;
        }

        p += n;
    }

    return NGX_OK;
}
