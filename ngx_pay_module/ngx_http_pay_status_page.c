
/*
 * Copyright (C) ngx_pay authors
 *
 * pay_status: the content handler of the counters' page (Prometheus text
 * 0.0.4, or JSON with ?format=json or "Accept: application/json") and of
 * the health answer ("pay_status health": 200 when every store answers,
 * else 503 problem+json naming the store), docs/monitoring.md.  The
 * counting is ngx_http_pay_status.c's; the stores' state is asked of
 * ngx_http_pay_store.c when the page is made.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_status.h"


static ngx_int_t ngx_http_pay_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_pay_health_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_pay_status_wants_json(ngx_http_request_t *r);
static ngx_int_t ngx_http_pay_status_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, ngx_chain_t *out);
static ngx_int_t ngx_http_pay_status_store_up(void *data);


static ngx_str_t  ngx_http_pay_status_prom_type =
    ngx_string("text/plain; version=0.0.4");
static ngx_str_t  ngx_http_pay_status_json_type =
    ngx_string("application/json");
static ngx_str_t  ngx_http_pay_status_problem_type =
    ngx_string("application/problem+json");


/* pay_status [health], in a location */

char *
ngx_http_pay_status_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate, or the location has another content handler";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 1) {
        clcf->handler = ngx_http_pay_status_handler;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "health") == 0) {
        clcf->handler = ngx_http_pay_health_handler;
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"pay_status\" takes nothing or \"health\", not "
                       "\"%V\"", &value[1]);

    return NGX_CONF_ERROR;
}


/* at postconfiguration: ngx_pay_store_up{store} of every store */

ngx_int_t
ngx_http_pay_status_page_init(ngx_conf_t *cf)
{
    ngx_str_t                  labels[2];
    ngx_uint_t                 i;
    ngx_http_pay_store_t     **stores;
    ngx_http_pay_main_conf_t  *pmcf;

    pmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_pay_module);

    stores = pmcf->stores.elts;
    ngx_str_set(&labels[0], "store");

    for (i = 0; i < pmcf->stores.nelts; i++) {
        if (ngx_http_pay_store_unused(stores[i])) {
            continue;
        }

        labels[1] = stores[i]->name;

        if (ngx_http_pay_status_gauge(cf, NGX_HTTP_PAY_METRIC_STORE_UP,
                                      labels, 1,
                                      ngx_http_pay_status_store_up,
                                      stores[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /* with the counters on, the stores' operations are counted too */
    if (pmcf->status_size != 0 && ngx_http_pay_store_count(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_pay_status_init_conf(cf);
}


static ngx_int_t
ngx_http_pay_status_store_up(void *data)
{
    return ngx_http_pay_store_up(data);
}


static ngx_int_t
ngx_http_pay_status_handler(ngx_http_request_t *r)
{
    ngx_int_t    json;
    ngx_chain_t  out;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    json = ngx_http_pay_status_wants_json(r);

    if (ngx_http_pay_status_render(r, json, &out) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_pay_status_send(r, NGX_HTTP_OK,
                                    json ? &ngx_http_pay_status_json_type
                                         : &ngx_http_pay_status_prom_type,
                                    &out);
}


static ngx_int_t
ngx_http_pay_status_wants_json(ngx_http_request_t *r)
{
    ngx_str_t         format;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {
        return format.len == 4 && ngx_strncmp(format.data, "json", 4) == 0;
    }

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

        if (h[i].key.len == 6
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Accept", 6) == 0
            && ngx_strlcasestrn(h[i].value.data,
                                h[i].value.data + h[i].value.len,
                                (u_char *) "application/json", 16 - 1)
               != NULL)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * 200 {"status":"ok","stores":{...}} when every store answers (this
 * worker's view), else 503 store_unavailable naming the first that does
 * not.
 */

static ngx_int_t
ngx_http_pay_health_handler(ngx_http_request_t *r)
{
    u_char                    *p;
    size_t                     len;
    ngx_buf_t                 *b;
    ngx_uint_t                 i;
    ngx_chain_t                out;
    ngx_http_pay_store_t     **stores, *first;
    const pay_error_info_t    *info;
    ngx_http_pay_main_conf_t  *pmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    pmcf = ngx_http_get_module_main_conf(r, ngx_http_pay_module);
    stores = pmcf->stores.elts;

    /*
     * A store name is any configuration word, quotes included: each is
     * escaped (at most twice its length), and the first store down is
     * named three times.
     */

    len = 256;
    first = NULL;

    for (i = 0; i < pmcf->stores.nelts; i++) {
        len += 2 * stores[i]->name.len + 16;

        if (first == NULL
            && !ngx_http_pay_store_unused(stores[i])
            && !ngx_http_pay_store_up(stores[i]))
        {
            first = stores[i];
        }
    }

    if (first != NULL) {
        len += 4 * first->name.len;
    }

    b = ngx_create_temp_buf(r->pool, 2 * len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the stores' states first, at the buffer's start; the answer after */

    p = ngx_cpymem(b->last, "\"stores\":{", sizeof("\"stores\":{") - 1);

    for (i = 0; i < pmcf->stores.nelts; i++) {
        p = ngx_sprintf(p, "%s\"", i ? "," : "");
        p += ngx_http_pay_status_escape(p, &stores[i]->name);
        p = ngx_sprintf(p, "\":\"%s\"",
                        ngx_http_pay_store_unused(stores[i]) ? "unused"
                        : ngx_http_pay_store_up(stores[i]) ? "up" : "down");
    }

    *p++ = '}';

    len = p - b->last;
    b->pos = p;

    if (first == NULL) {
        b->last = ngx_sprintf(p, "{\"status\":\"ok\",%*s}\n", len, b->last);

    } else {
        info = pay_error_info(PAY_ERR_STORE_UNAVAILABLE);

        p = ngx_sprintf(p, "{\"type\":\"urn:ngx-pay:error:%s\","
                        "\"title\":\"%s\",\"status\":503,"
                        "\"detail\":\"store \\\"", info->code, info->title);
        p += ngx_http_pay_status_escape(p, &first->name);
        p = ngx_sprintf(p, "\\\" is not reachable\",\"code\":\"%s\","
                        "\"store\":\"", info->code);
        p += ngx_http_pay_status_escape(p, &first->name);
        b->last = ngx_sprintf(p, "\",%*s}\n", len, b->last);
    }

    out.buf = b;
    out.next = NULL;
    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.status = first ? NGX_HTTP_SERVICE_UNAVAILABLE : NGX_HTTP_OK;

    return ngx_http_pay_status_send(r, r->headers_out.status,
                                    first ? &ngx_http_pay_status_problem_type
                                          : &ngx_http_pay_status_json_type,
                                    &out);
}


static ngx_int_t
ngx_http_pay_status_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_chain_t *out)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_length_n = out->buf->last - out->buf->pos;

    /* counters change with every request: never cached */
    r->headers_out.last_modified_time = -1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}
