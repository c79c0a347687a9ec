
/*
 * Copyright (C) ngx_pay authors
 *
 * What the client's headers say, and what they must not say: a header
 * looked up by name (twice is ambiguous, never "the first one"), and the
 * client's own "Pay-*" headers dropped before anything is forwarded.
 * Shared by the providers' glue and by intents.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"


static ngx_uint_t ngx_http_pay_is_pay_header(ngx_table_elt_t *h);


/*
 * A header that must not be repeated: NGX_OK with *found (NULL when
 * absent) and its value, or the rejection sent (NGX_DONE).
 */

ngx_int_t
ngx_http_pay_one_header(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_str_t *name, ngx_table_elt_t **found, const char **value,
    size_t *len)
{
    if (ngx_http_pay_find_header(r, name, found) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "pay: more than one \"%V\" header", name);
        return ngx_http_pay_reject(r, ctx, PAY_ERR_SIGNATURE_MALFORMED,
                                   "a signature header is repeated");
    }

    if (*found == NULL) {
        *value = NULL;
        *len = 0;

    } else {
        *value = (const char *) (*found)->value.data;
        *len = (*found)->value.len;
    }

    return NGX_OK;
}


/*
 * Finds a request header by name.  Two headers of the same name make the
 * delivery ambiguous: NGX_DECLINED.
 */

ngx_int_t
ngx_http_pay_find_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_table_elt_t **found)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    *found = NULL;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != name->len
            || ngx_strncasecmp(h[i].key.data, name->data, name->len) != 0)
        {
            continue;
        }

        if (*found != NULL) {
            return NGX_DECLINED;
        }

        *found = &h[i];
    }

    return NGX_OK;
}


/*
 * The app learns things only from what the operator forwards with
 * proxy_set_header: a client-sent "Pay-*" header must never pass for one
 * of ours, nor a "Pay_*" one, which nginx keeps under
 * underscores_in_headers on (or ignore_invalid_headers off) and which app
 * servers that fold '_' into '-' read as "Pay-*".  The header list is
 * rebuilt without them (an ngx_list_t has no removal); the dropped
 * elements stay in the pool, so pointers that r->headers_in keeps to
 * other headers remain valid.
 */

ngx_int_t
ngx_http_pay_strip_client_headers(ngx_http_request_t *r)
{
    ngx_uint_t        i, n, found;
    ngx_list_t        old;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *copy;

    found = 0;
    n = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        n++;

        if (ngx_http_pay_is_pay_header(&h[i])) {
            found++;
        }
    }

    if (found == 0) {
        return NGX_OK;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay: dropping %ui client Pay-* header(s)", found);

    old = r->headers_in.headers;

    if (ngx_list_init(&r->headers_in.headers, r->pool,
                      n - found > 0 ? n - found : 1, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &old.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (ngx_http_pay_is_pay_header(&h[i])) {
            continue;
        }

        copy = ngx_list_push(&r->headers_in.headers);
        if (copy == NULL) {
            return NGX_ERROR;
        }

        *copy = h[i];
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_pay_is_pay_header(ngx_table_elt_t *h)
{
    return h->key.len >= sizeof("Pay-") - 1
           && ngx_strncasecmp(h->key.data, (u_char *) "Pay",
                              sizeof("Pay") - 1) == 0
           && (h->key.data[3] == '-' || h->key.data[3] == '_');
}
