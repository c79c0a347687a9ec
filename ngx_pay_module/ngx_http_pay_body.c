
/*
 * Copyright (C) ngx_pay authors
 *
 * The raw client body, byte for byte, as one contiguous string: signatures
 * are computed over it and the JSON parser reads it.
 *
 * nginx hands the body over as a chain of buffers of any of these shapes,
 * and each is walked by what it holds, never by what it lacks:
 *
 *   in memory       (temporary, memory or mmap) pos..last; this wins when
 *                   a buffer is in a file as well (the bytes are the same);
 *   in a file       in_file, file_pos..file_last of b->file (a body spooled
 *                   to a temporary file, or client_body_in_file_only);
 *   special         no data at all: the empty last_buf a chunked body ends
 *                   with, flush or sync buffers.
 *
 * One in-memory buffer is used in place (the common case: no copy).  A
 * caller that knows its bound (intents: 16384 bytes) passes it, so a body
 * over it is refused before anything is copied.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"


static ngx_int_t ngx_http_pay_body_buf_size(ngx_http_request_t *r,
    ngx_buf_t *b, size_t *size);


/* NGX_OK, NGX_DECLINED: longer than max (if not 0), NGX_ERROR */

ngx_int_t
ngx_http_pay_body_get(ngx_http_request_t *r, ngx_str_t *body, size_t max)
{
    u_char       *p, *data;
    size_t        len, size;
    ssize_t       n;
    ngx_buf_t    *b, *only;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = NULL;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;
    only = NULL;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_http_pay_body_buf_size(r, b, &size) != NGX_OK) {
            return NGX_ERROR;
        }

        if (size == 0) {
            continue;
        }

        if (len > NGX_MAX_SIZE_T_VALUE - size) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "pay: request body size overflow");
            return NGX_ERROR;
        }

        /* the one buffer with data, if it is in memory and alone */
        only = (len == 0 && ngx_buf_in_memory(b)) ? b : NULL;
        len += size;
    }

    if (len == 0) {
        return NGX_OK;
    }

    if (max && len > max) {
        return NGX_DECLINED;
    }

    if (only != NULL) {
        body->data = only->pos;
        body->len = len;
        return NGX_OK;
    }

    data = ngx_pnalloc(r->pool, len);
    if (data == NULL) {
        return NGX_ERROR;
    }

    p = data;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        /* sizes were checked above; the chain has not changed since */
        (void) ngx_http_pay_body_buf_size(r, b, &size);

        if (size == 0) {
            continue;
        }

        if ((size_t) (data + len - p) < size) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "pay: request body changed while read");
            return NGX_ERROR;
        }

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, size);
            continue;
        }

        n = ngx_read_file(b->file, p, size, b->file_pos);

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        if ((size_t) n != size) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          ngx_read_file_n " read only %z of %uz from \"%V\"",
                          n, size, &b->file->name);
            return NGX_ERROR;
        }

        p += n;
    }

    body->data = data;
    body->len = p - data;

    return NGX_OK;
}


/* how many body bytes a buffer holds, by its shape (see the top) */

static ngx_int_t
ngx_http_pay_body_buf_size(ngx_http_request_t *r, ngx_buf_t *b, size_t *size)
{
    *size = 0;

    if (ngx_buf_in_memory(b)) {
        if (b->last < b->pos || (b->pos == NULL && b->last != NULL)) {
            goto invalid;
        }

        *size = b->last - b->pos;
        return NGX_OK;
    }

    if (!b->in_file) {
        /* a special buffer: last_buf, flush or sync, no data */
        return NGX_OK;
    }

    if (b->file == NULL || b->file_pos < 0 || b->file_last < b->file_pos) {
        goto invalid;
    }

    if ((uint64_t) (b->file_last - b->file_pos) > NGX_MAX_SIZE_T_VALUE) {
        goto invalid;
    }

    *size = (size_t) (b->file_last - b->file_pos);

    return NGX_OK;

invalid:

    ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                  "pay: request body buffer of an unknown shape "
                  "(t:%d m:%d f:%d)", b->temporary, b->memory, b->in_file);

    return NGX_ERROR;
}
