
/*
 * Copyright (C) ngx_pay authors
 *
 * The breakers' zone: a fixed array of slots, each owned by a hash of
 * provider and API location, so a reload that reorders locations hands
 * no slot's count to another provider.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_breaker.h"
#include "ngx_http_pay_status.h"


typedef struct {
    uint32_t                 owner;
    ngx_uint_t               fails;         /* in a row */
    ngx_msec_t               open_until;    /* 0: closed */
    ngx_uint_t               probing;       /* a probe is out */
} ngx_http_pay_breaker_node_t;


typedef struct {
    ngx_http_pay_breaker_node_t  nodes[NGX_HTTP_PAY_BREAKERS];
} ngx_http_pay_breaker_sh_t;


typedef struct {
    ngx_http_pay_breaker_sh_t   *sh;
    ngx_slab_pool_t             *shpool;
    uint32_t                     owners[NGX_HTTP_PAY_BREAKERS];
    ngx_uint_t                   n;
} ngx_http_pay_breaker_t;


/* a slot, for its gauge ngx_pay_breaker_open */
typedef struct {
    ngx_shm_zone_t              *zone;
    ngx_uint_t                   slot;
} ngx_http_pay_breaker_gauge_t;


static ngx_int_t ngx_http_pay_breaker_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_int_t ngx_http_pay_breaker_gauge(ngx_conf_t *cf,
    ngx_shm_zone_t *zone, ngx_uint_t slot, const char *provider,
    ngx_str_t *api);
static ngx_int_t ngx_http_pay_breaker_is_open(void *data);
static ngx_http_pay_breaker_node_t *ngx_http_pay_breaker_node(
    ngx_http_pay_breaker_t *b, ngx_uint_t slot);


static ngx_str_t  ngx_http_pay_breaker_zone_name =
    ngx_string("ngx_http_pay_breaker");


ngx_shm_zone_t *
ngx_http_pay_breaker_zone(ngx_conf_t *cf)
{
    size_t                   size;
    ngx_shm_zone_t          *zone;
    ngx_http_pay_breaker_t  *b;

    size = ngx_align(sizeof(ngx_http_pay_breaker_sh_t) + 8 * ngx_pagesize,
                     ngx_pagesize);

    zone = ngx_shared_memory_add(cf, &ngx_http_pay_breaker_zone_name, size,
                                 &ngx_http_pay_module);
    if (zone == NULL) {
        return NULL;
    }

    if (zone->data == NULL) {
        b = ngx_pcalloc(cf->pool, sizeof(ngx_http_pay_breaker_t));
        if (b == NULL) {
            return NULL;
        }

        zone->init = ngx_http_pay_breaker_init_zone;
        zone->data = b;
    }

    return zone;
}


ngx_int_t
ngx_http_pay_breaker_slot(ngx_conf_t *cf, const char *provider,
    ngx_str_t *api)
{
    uint32_t                 owner;
    ngx_uint_t               i;
    ngx_shm_zone_t          *zone;
    ngx_http_pay_breaker_t  *b;

    zone = ngx_http_pay_breaker_zone(cf);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    b = zone->data;

    ngx_crc32_init(owner);
    ngx_crc32_update(&owner, (u_char *) provider, ngx_strlen(provider));
    ngx_crc32_update(&owner, (u_char *) "\n", 1);
    ngx_crc32_update(&owner, api->data, api->len);
    ngx_crc32_final(owner);

    owner |= 1;

    for (i = 0; i < b->n; i++) {
        if (b->owners[i] == owner) {
            return i;
        }
    }

    if (b->n == NGX_HTTP_PAY_BREAKERS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "more than %d provider API locations",
                           NGX_HTTP_PAY_BREAKERS);
        return NGX_ERROR;
    }

    b->owners[b->n] = owner;

    if (ngx_http_pay_breaker_gauge(cf, zone, b->n, provider, api) != NGX_OK) {
        return NGX_ERROR;
    }

    return b->n++;
}


static ngx_int_t
ngx_http_pay_breaker_gauge(ngx_conf_t *cf, ngx_shm_zone_t *zone,
    ngx_uint_t slot, const char *provider, ngx_str_t *api)
{
    ngx_str_t                      labels[4];
    ngx_http_pay_breaker_gauge_t  *g;

    g = ngx_palloc(cf->pool, sizeof(ngx_http_pay_breaker_gauge_t));
    if (g == NULL) {
        return NGX_ERROR;
    }

    g->zone = zone;
    g->slot = slot;

    ngx_str_set(&labels[0], "provider");
    labels[1].data = (u_char *) provider;
    labels[1].len = ngx_strlen(provider);
    ngx_str_set(&labels[2], "api");
    labels[3] = *api;

    return ngx_http_pay_status_gauge(cf, NGX_HTTP_PAY_METRIC_BREAKER_OPEN,
                                     labels, 2, ngx_http_pay_breaker_is_open,
                                     g);
}


/* 1 while the slot's breaker is open (its probe included), for the page */

static ngx_int_t
ngx_http_pay_breaker_is_open(void *data)
{
    ngx_http_pay_breaker_gauge_t *g = data;

    ngx_uint_t                    open;
    ngx_http_pay_breaker_t       *b;
    ngx_http_pay_breaker_node_t  *node;

    b = g->zone->data;

    if (b == NULL || b->sh == NULL) {
        return 0;
    }

    ngx_shmtx_lock(&b->shpool->mutex);

    node = &b->sh->nodes[g->slot];

    open = (node->owner == b->owners[g->slot] && node->open_until != 0
            && (ngx_msec_int_t) (node->open_until - ngx_current_msec) > 0);

    ngx_shmtx_unlock(&b->shpool->mutex);

    return open;
}


static ngx_int_t
ngx_http_pay_breaker_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_pay_breaker_t  *ob = data;

    ngx_http_pay_breaker_t  *b;

    b = zone->data;

    if (ob) {
        b->sh = ob->sh;
        b->shpool = ob->shpool;
        return NGX_OK;
    }

    b->shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        b->sh = b->shpool->data;
        return NGX_OK;
    }

    b->sh = ngx_slab_calloc(b->shpool, sizeof(ngx_http_pay_breaker_sh_t));
    if (b->sh == NULL) {
        return NGX_ERROR;
    }

    b->shpool->data = b->sh;
    b->shpool->log_ctx = (u_char *) " in the pay breaker zone";

    return NGX_OK;
}


/* called with the mutex held */

static ngx_http_pay_breaker_node_t *
ngx_http_pay_breaker_node(ngx_http_pay_breaker_t *b, ngx_uint_t slot)
{
    ngx_http_pay_breaker_node_t  *node;

    node = &b->sh->nodes[slot];

    if (node->owner != b->owners[slot]) {
        ngx_memzero(node, sizeof(ngx_http_pay_breaker_node_t));
        node->owner = b->owners[slot];
    }

    return node;
}


/*
 * Open: skipped until the cool-down ends.  Then the first request to ask
 * is let through as a probe and the cool-down starts again for the others,
 * so a provider that is still down sees one request per cool-down, not a
 * burst; the probe's result closes or reopens it.
 */

ngx_uint_t
ngx_http_pay_breaker_open(ngx_shm_zone_t *zone, ngx_uint_t slot,
    ngx_uint_t fails, ngx_msec_t cooldown,
    ngx_http_pay_breaker_change_e *change)
{
    ngx_uint_t                    open;
    ngx_http_pay_breaker_t       *b;
    ngx_http_pay_breaker_node_t  *node;

    b = zone->data;
    open = 0;
    *change = NGX_HTTP_PAY_BREAKER_SAME;

    ngx_shmtx_lock(&b->shpool->mutex);

    node = ngx_http_pay_breaker_node(b, slot);

    if (node->fails >= fails && node->open_until != 0) {

        if ((ngx_msec_int_t) (node->open_until - ngx_current_msec) > 0) {
            open = 1;

        } else {
            /* this one probes */
            node->open_until = ngx_current_msec + cooldown;
            node->probing = 1;
            *change = NGX_HTTP_PAY_BREAKER_PROBE;
        }
    }

    ngx_shmtx_unlock(&b->shpool->mutex);

    return open;
}


ngx_http_pay_breaker_change_e
ngx_http_pay_breaker_result(ngx_shm_zone_t *zone, ngx_uint_t slot,
    ngx_uint_t ok, ngx_uint_t fails, ngx_msec_t cooldown)
{
    ngx_http_pay_breaker_t         *b;
    ngx_http_pay_breaker_node_t    *node;
    ngx_http_pay_breaker_change_e   change;

    b = zone->data;
    change = NGX_HTTP_PAY_BREAKER_SAME;

    ngx_shmtx_lock(&b->shpool->mutex);

    node = ngx_http_pay_breaker_node(b, slot);

    if (ok) {
        if (node->open_until != 0) {
            change = NGX_HTTP_PAY_BREAKER_CLOSED;
        }

        node->fails = 0;
        node->open_until = 0;
        node->probing = 0;

    } else if (++node->fails >= fails) {
        /* open, or open again after a failed try when half open */

        if (node->open_until == 0) {
            change = NGX_HTTP_PAY_BREAKER_OPENED;

        } else if (node->probing) {
            change = NGX_HTTP_PAY_BREAKER_REOPENED;
        }

        node->open_until = ngx_current_msec + cooldown;
        node->probing = 0;
    }

    ngx_shmtx_unlock(&b->shpool->mutex);

    return change;
}
