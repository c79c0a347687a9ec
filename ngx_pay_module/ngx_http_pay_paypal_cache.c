
/*
 * Copyright (C) ngx_pay authors
 *
 * The PayPal zone: fixed slots, so there is nothing to allocate or evict
 * beyond picking a slot, and every operation is a few comparisons under
 * the zone's mutex.
 *
 * A certificate slot is keyed by the policy of the locations it serves
 * (their trust anchors, cert hosts and fetching location: a verdict made
 * under one policy never serves another) and the canonical cert URL
 * (host in lower case, so the case variants a stranger can write are one
 * entry; PayPal changes the URL when it rotates the certificate).
 *
 * A slot holds two things.  The key of a certificate once validated,
 * used until the certificate's notAfter; after a day it is fetched
 * again, but it stays in use until notAfter whatever that fetch gives,
 * except a new verdict of validation (untrusted), and such refetches are
 * not counted in the fetch budget.  And the last failure (a certificate
 * that failed validation, or a fetch that got no 200), for a short time,
 * so a burst of forged deliveries naming a bad URL fetches it once.  A
 * new URL takes a free slot, or one without a live key (the failure that
 * expires first); never one whose key is live, so strangers naming
 * certificates never push a validated one out.  Fetches of URLs without
 * a validated key are bounded per interval, zone-wide: a stranger naming
 * ever new certificates gets no more of them, and cannot spend what
 * validated certificates need.
 *
 * A token slot belongs to one client, identified by a hash of its API
 * location and id: after a reload that reorders clients, a slot's token
 * is not handed to another client.
 *
 * A fetch mark (fetching_until) makes concurrent lookups of a missing
 * entry wait while one request fetches; a mark whose owner died (its
 * request was aborted) simply runs out.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_paypal_cache.h"


#define NGX_HTTP_PAY_PAYPAL_URL_MAX     512
#define NGX_HTTP_PAY_PAYPAL_REASON_MAX  64


typedef struct {
    uint32_t                  hash;         /* of policy and URL; 0: unused */
    ngx_msec_t                fetching_until;   /* 0: no fetch */
    size_t                    url_len;
    u_char                    policy[PAY_PAYPAL_POLICY_ID_LEN];
    u_char                    url[NGX_HTTP_PAY_PAYPAL_URL_MAX];

    /* the certificate validated once: its key, until its notAfter */
    time_t                    key_until;    /* 0: none */
    time_t                    key_fresh;    /* fetched again after this */
    size_t                    key_len;
    u_char                    key[NGX_HTTP_PAY_PAYPAL_DER_MAX];

    /* the last failure, NGX_HTTP_PAY_CERT_UNTRUSTED or _FAILED */
    ngx_uint_t                kind;
    time_t                    expires;      /* 0: none */
    size_t                    len;
    u_char                    value[NGX_HTTP_PAY_PAYPAL_REASON_MAX];
} ngx_http_pay_paypal_cert_slot_t;


typedef struct {
    uint32_t                  owner;
    time_t                    expires;
    ngx_msec_t                fetching_until;
    size_t                    len;
    u_char                    value[NGX_HTTP_PAY_PAYPAL_TOKEN_MAX];
} ngx_http_pay_paypal_token_slot_t;


typedef struct {
    ngx_http_pay_paypal_cert_slot_t   certs[NGX_HTTP_PAY_PAYPAL_CERTS];
    ngx_http_pay_paypal_token_slot_t  tokens[NGX_HTTP_PAY_PAYPAL_CLIENTS];

    /* certificate fetches started since fetch_window began */
    time_t                            fetch_window;
    ngx_uint_t                        fetches;
} ngx_http_pay_paypal_cache_sh_t;


typedef struct {
    ngx_http_pay_paypal_cache_sh_t   *sh;
    ngx_slab_pool_t                  *shpool;
    uint32_t                          owners[NGX_HTTP_PAY_PAYPAL_CLIENTS];
    ngx_uint_t                        nclients;
} ngx_http_pay_paypal_cache_t;


static ngx_int_t ngx_http_pay_paypal_cache_init_zone(ngx_shm_zone_t *zone,
    void *data);
static uint32_t ngx_http_pay_paypal_cert_hash(u_char *policy,
    ngx_str_t *url);
static ngx_http_pay_paypal_cert_slot_t *ngx_http_pay_paypal_cert_find(
    ngx_http_pay_paypal_cache_t *cache, u_char *policy, ngx_str_t *url,
    uint32_t hash);
static ngx_uint_t ngx_http_pay_paypal_cert_fetch_allowed(
    ngx_http_pay_paypal_cache_t *cache, time_t now);
static ngx_int_t ngx_http_pay_paypal_cache_copy(ngx_pool_t *pool,
    u_char *data, size_t len, ngx_str_t *value);
static ngx_uint_t ngx_http_pay_paypal_cache_fetching(ngx_msec_t until);


static ngx_str_t  ngx_http_pay_paypal_zone_name =
    ngx_string("ngx_http_pay_paypal");


ngx_shm_zone_t *
ngx_http_pay_paypal_cache_zone(ngx_conf_t *cf)
{
    size_t                        size;
    ngx_shm_zone_t               *zone;
    ngx_http_pay_paypal_cache_t  *cache;

    /* the slots, the slab pool's own pages, and some slack */
    size = sizeof(ngx_http_pay_paypal_cache_sh_t) + 8 * ngx_pagesize;
    size = ngx_align(size, ngx_pagesize);

    zone = ngx_shared_memory_add(cf, &ngx_http_pay_paypal_zone_name, size,
                                 &ngx_http_pay_module);
    if (zone == NULL) {
        return NULL;
    }

    if (zone->data == NULL) {
        cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_pay_paypal_cache_t));
        if (cache == NULL) {
            return NULL;
        }

        zone->init = ngx_http_pay_paypal_cache_init_zone;
        zone->data = cache;
    }

    return zone;
}


ngx_int_t
ngx_http_pay_paypal_cache_client(ngx_conf_t *cf, ngx_str_t *api,
    ngx_str_t *client_id)
{
    uint32_t                      owner;
    ngx_uint_t                    i;
    ngx_shm_zone_t               *zone;
    ngx_http_pay_paypal_cache_t  *cache;

    zone = ngx_http_pay_paypal_cache_zone(cf);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    cache = zone->data;

    ngx_crc32_init(owner);
    ngx_crc32_update(&owner, api->data, api->len);
    ngx_crc32_update(&owner, (u_char *) "\n", 1);
    ngx_crc32_update(&owner, client_id->data, client_id->len);
    ngx_crc32_final(owner);

    /* 0 marks a free slot */
    owner |= 1;

    for (i = 0; i < cache->nclients; i++) {
        if (cache->owners[i] == owner) {
            return i;
        }
    }

    if (cache->nclients == NGX_HTTP_PAY_PAYPAL_CLIENTS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "more than %d PayPal clients",
                           NGX_HTTP_PAY_PAYPAL_CLIENTS);
        return NGX_ERROR;
    }

    cache->owners[cache->nclients] = owner;

    return cache->nclients++;
}


static ngx_int_t
ngx_http_pay_paypal_cache_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_pay_paypal_cache_t  *ocache = data;

    ngx_http_pay_paypal_cache_t  *cache;

    cache = zone->data;

    if (ocache) {
        /* certificates stay good; token slots check their owner */
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_calloc(cache->shpool,
                                sizeof(ngx_http_pay_paypal_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;
    cache->shpool->log_ctx = (u_char *) " in the PayPal cache zone";

    return NGX_OK;
}


ngx_int_t
ngx_http_pay_paypal_cert_get(ngx_shm_zone_t *zone, u_char *policy,
    ngx_str_t *url, ngx_pool_t *pool, ngx_str_t *value, ngx_msec_t lock)
{
    time_t                            now, first;
    uint32_t                          hash;
    ngx_int_t                         rc;
    ngx_uint_t                        i;
    ngx_http_pay_paypal_cache_t      *cache;
    ngx_http_pay_paypal_cert_slot_t  *slot, *s;

    cache = zone->data;
    now = ngx_time();

    if (url->len > NGX_HTTP_PAY_PAYPAL_URL_MAX) {
        /* the header checks cap it at 500 */
        return NGX_ERROR;
    }

    hash = ngx_http_pay_paypal_cert_hash(policy, url);

    ngx_shmtx_lock(&cache->shpool->mutex);

    slot = ngx_http_pay_paypal_cert_find(cache, policy, url, hash);

    if (slot != NULL && slot->key_until > now) {

        /*
         * validated once: the key serves until notAfter; a day after its
         * validation one delivery fetches it again, outside the budget,
         * unless another does now or that failed a moment ago
         */

        if (slot->key_fresh > now
            || ngx_http_pay_paypal_cache_fetching(slot->fetching_until)
            || slot->expires > now)
        {
            rc = NGX_HTTP_PAY_CACHE_HIT;

        } else {
            rc = NGX_HTTP_PAY_CACHE_REFRESH;
            slot->fetching_until = ngx_current_msec + lock;
        }

        if (ngx_http_pay_paypal_cache_copy(pool, slot->key, slot->key_len,
                                           value)
            != NGX_OK)
        {
            if (rc == NGX_HTTP_PAY_CACHE_REFRESH) {
                slot->fetching_until = 0;
            }

            rc = NGX_ERROR;
        }

        ngx_shmtx_unlock(&cache->shpool->mutex);
        return rc;
    }

    if (slot != NULL && slot->expires > now) {
        rc = (slot->kind == NGX_HTTP_PAY_CERT_UNTRUSTED)
             ? NGX_HTTP_PAY_CACHE_NEGATIVE : NGX_HTTP_PAY_CACHE_FAILED;

        if (ngx_http_pay_paypal_cache_copy(pool, slot->value, slot->len,
                                           value)
            != NGX_OK)
        {
            rc = NGX_ERROR;
        }

        ngx_shmtx_unlock(&cache->shpool->mutex);
        return rc;
    }

    if (slot != NULL
        && ngx_http_pay_paypal_cache_fetching(slot->fetching_until))
    {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_HTTP_PAY_CACHE_WAIT;
    }

    if (!ngx_http_pay_paypal_cert_fetch_allowed(cache, now)) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_HTTP_PAY_CACHE_BUSY;
    }

    if (slot == NULL) {

        /*
         * a free slot, else one without a live key: an expired one, or
         * the failure that expires first; never a live key
         */

        first = 0;

        for (i = 0; i < NGX_HTTP_PAY_PAYPAL_CERTS; i++) {
            s = &cache->sh->certs[i];

            if (s->hash == 0) {
                slot = s;
                break;
            }

            if (s->key_until > now
                || ngx_http_pay_paypal_cache_fetching(s->fetching_until))
            {
                continue;
            }

            if (s->expires <= now) {
                slot = s;
                break;
            }

            if (slot == NULL || s->expires < first) {
                slot = s;
                first = s->expires;
            }
        }

        if (slot == NULL) {
            ngx_shmtx_unlock(&cache->shpool->mutex);
            return NGX_HTTP_PAY_CACHE_FULL;
        }

        slot->hash = hash;
        slot->url_len = url->len;
        ngx_memcpy(slot->policy, policy, PAY_PAYPAL_POLICY_ID_LEN);
        ngx_memcpy(slot->url, url->data, url->len);
        slot->key_until = 0;
        slot->key_len = 0;
        slot->expires = 0;
        slot->len = 0;
    }

    cache->sh->fetches++;
    slot->fetching_until = ngx_current_msec + lock;

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return NGX_HTTP_PAY_CACHE_FETCH;
}


void
ngx_http_pay_paypal_cert_put(ngx_shm_zone_t *zone, u_char *policy,
    ngx_str_t *url, ngx_str_t *value, ngx_uint_t kind, time_t expires)
{
    time_t                            fresh;
    uint32_t                          hash;
    ngx_http_pay_paypal_cache_t      *cache;
    ngx_http_pay_paypal_cert_slot_t  *slot;

    cache = zone->data;

    if (url->len > NGX_HTTP_PAY_PAYPAL_URL_MAX
        || value->len > ((kind == NGX_HTTP_PAY_CERT_KEY)
                         ? NGX_HTTP_PAY_PAYPAL_DER_MAX
                         : NGX_HTTP_PAY_PAYPAL_REASON_MAX))
    {
        ngx_http_pay_paypal_cert_abandon(zone, policy, url);
        return;
    }

    hash = ngx_http_pay_paypal_cert_hash(policy, url);

    ngx_shmtx_lock(&cache->shpool->mutex);

    /* the slot marked by cert_get, unless it was taken over since */
    slot = ngx_http_pay_paypal_cert_find(cache, policy, url, hash);

    if (slot != NULL) {
        slot->fetching_until = 0;

        switch (kind) {

        case NGX_HTTP_PAY_CERT_KEY:
            fresh = ngx_time() + NGX_HTTP_PAY_PAYPAL_CERT_FRESH;

            slot->key_len = value->len;
            ngx_memcpy(slot->key, value->data, value->len);
            slot->key_until = expires;
            slot->key_fresh = ngx_min(fresh, expires);
            slot->expires = 0;
            break;

        case NGX_HTTP_PAY_CERT_UNTRUSTED:
            /* a new verdict on the certificate: its key goes */
            slot->key_until = 0;
            slot->key_len = 0;

            /* fall through */

        default: /* NGX_HTTP_PAY_CERT_FAILED: a key stays */
            slot->kind = kind;
            slot->len = value->len;
            ngx_memcpy(slot->value, value->data, value->len);
            slot->expires = expires;
        }
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


void
ngx_http_pay_paypal_cert_abandon(ngx_shm_zone_t *zone, u_char *policy,
    ngx_str_t *url)
{
    uint32_t                          hash;
    ngx_http_pay_paypal_cache_t      *cache;
    ngx_http_pay_paypal_cert_slot_t  *slot;

    cache = zone->data;

    if (url->len > NGX_HTTP_PAY_PAYPAL_URL_MAX) {
        return;
    }

    hash = ngx_http_pay_paypal_cert_hash(policy, url);

    ngx_shmtx_lock(&cache->shpool->mutex);

    slot = ngx_http_pay_paypal_cert_find(cache, policy, url, hash);

    if (slot != NULL) {
        slot->fetching_until = 0;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


static uint32_t
ngx_http_pay_paypal_cert_hash(u_char *policy, ngx_str_t *url)
{
    uint32_t  hash;

    ngx_crc32_init(hash);
    ngx_crc32_update(&hash, policy, PAY_PAYPAL_POLICY_ID_LEN);
    ngx_crc32_update(&hash, url->data, url->len);
    ngx_crc32_final(hash);

    /* 0 marks a free slot */
    return hash | 1;
}


static ngx_http_pay_paypal_cert_slot_t *
ngx_http_pay_paypal_cert_find(ngx_http_pay_paypal_cache_t *cache,
    u_char *policy, ngx_str_t *url, uint32_t hash)
{
    ngx_uint_t                        i;
    ngx_http_pay_paypal_cert_slot_t  *s;

    for (i = 0; i < NGX_HTTP_PAY_PAYPAL_CERTS; i++) {
        s = &cache->sh->certs[i];

        if (s->hash == hash && s->url_len == url->len
            && ngx_memcmp(s->url, url->data, url->len) == 0
            && ngx_memcmp(s->policy, policy, PAY_PAYPAL_POLICY_ID_LEN) == 0)
        {
            return s;
        }
    }

    return NULL;
}


/* under the mutex: whether one more fetch fits in the current interval */

static ngx_uint_t
ngx_http_pay_paypal_cert_fetch_allowed(ngx_http_pay_paypal_cache_t *cache,
    time_t now)
{
    ngx_http_pay_paypal_cache_sh_t  *sh;

    sh = cache->sh;

    if (now - sh->fetch_window >= NGX_HTTP_PAY_PAYPAL_FETCH_INTERVAL
        || now < sh->fetch_window)
    {
        sh->fetch_window = now;
        sh->fetches = 0;
    }

    return sh->fetches < NGX_HTTP_PAY_PAYPAL_FETCHES;
}


ngx_int_t
ngx_http_pay_paypal_token_get(ngx_shm_zone_t *zone, ngx_uint_t slot,
    ngx_pool_t *pool, ngx_str_t *value, ngx_msec_t lock)
{
    ngx_int_t                          rc;
    ngx_http_pay_paypal_cache_t       *cache;
    ngx_http_pay_paypal_token_slot_t  *s;

    cache = zone->data;
    s = &cache->sh->tokens[slot];

    ngx_shmtx_lock(&cache->shpool->mutex);

    if (s->owner != cache->owners[slot]) {
        /* a slot of the previous configuration's: start afresh */
        ngx_memzero(s, sizeof(ngx_http_pay_paypal_token_slot_t));
        s->owner = cache->owners[slot];
    }

    if (s->len && s->expires > ngx_time()) {
        rc = ngx_http_pay_paypal_cache_copy(pool, s->value, s->len, value);
        ngx_shmtx_unlock(&cache->shpool->mutex);

        return rc == NGX_OK ? NGX_HTTP_PAY_CACHE_HIT : NGX_ERROR;
    }

    if (ngx_http_pay_paypal_cache_fetching(s->fetching_until)) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_HTTP_PAY_CACHE_WAIT;
    }

    s->fetching_until = ngx_current_msec + lock;

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return NGX_HTTP_PAY_CACHE_FETCH;
}


void
ngx_http_pay_paypal_token_put(ngx_shm_zone_t *zone, ngx_uint_t slot,
    ngx_str_t *token, time_t expires)
{
    ngx_http_pay_paypal_cache_t       *cache;
    ngx_http_pay_paypal_token_slot_t  *s;

    cache = zone->data;
    s = &cache->sh->tokens[slot];

    if (token->len > NGX_HTTP_PAY_PAYPAL_TOKEN_MAX) {
        ngx_http_pay_paypal_token_abandon(zone, slot);
        return;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);

    if (s->owner == cache->owners[slot]) {
        s->len = token->len;
        ngx_memcpy(s->value, token->data, token->len);
        s->expires = expires;
        s->fetching_until = 0;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


void
ngx_http_pay_paypal_token_abandon(ngx_shm_zone_t *zone, ngx_uint_t slot)
{
    ngx_http_pay_paypal_cache_t  *cache;

    cache = zone->data;

    ngx_shmtx_lock(&cache->shpool->mutex);

    if (cache->sh->tokens[slot].owner == cache->owners[slot]) {
        cache->sh->tokens[slot].fetching_until = 0;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


void
ngx_http_pay_paypal_token_drop(ngx_shm_zone_t *zone, ngx_uint_t slot,
    ngx_str_t *token)
{
    ngx_http_pay_paypal_cache_t       *cache;
    ngx_http_pay_paypal_token_slot_t  *s;

    cache = zone->data;
    s = &cache->sh->tokens[slot];

    ngx_shmtx_lock(&cache->shpool->mutex);

    if (s->owner == cache->owners[slot] && s->len == token->len
        && ngx_memcmp(s->value, token->data, token->len) == 0)
    {
        ngx_explicit_memzero(s->value, s->len);
        s->len = 0;
        s->expires = 0;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


static ngx_int_t
ngx_http_pay_paypal_cache_copy(ngx_pool_t *pool, u_char *data, size_t len,
    ngx_str_t *value)
{
    value->data = ngx_pnalloc(pool, len ? len : 1);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, data, len);
    value->len = len;

    return NGX_OK;
}


/* ngx_current_msec is monotonic and the same in every worker */

static ngx_uint_t
ngx_http_pay_paypal_cache_fetching(ngx_msec_t until)
{
    return until != 0 && (ngx_msec_int_t) (until - ngx_current_msec) > 0;
}
