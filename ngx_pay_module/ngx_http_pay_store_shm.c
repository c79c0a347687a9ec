
/*
 * Copyright (C) ngx_pay authors
 *
 * The shared-memory store engine: one zone per store, shared by the
 * workers of one host, kept across reloads (when the size is unchanged),
 * lost on restart.  Each record is one slab allocation, its key and data
 * inline after the header, chained in a hash table by a keyed hash of the
 * key (SipHash-2-4, its key drawn when the zone is made: nobody outside
 * can search for keys that share a chain, as they could with the crc32
 * used before, and it is faster at every key length the module makes):
 * a bucket array of one bucket per 256 bytes of zone, allocated with the
 * zone, so a lookup reads the bucket and one or two records (a tree of a
 * million records cost twenty cache misses per lookup).  A bucket also
 * holds a tag of each of its first three records' hashes and its length:
 * a new key, whose bucket holds at most three records with other tags,
 * is known to be absent without reading a record, each a cache miss in a
 * large zone.
 *
 * Every record is also in an age queue, newest write (claim or complete)
 * first.  A record whose time is up counts as absent: it is freed when a
 * lookup meets it, and each claim frees up to three expired records from
 * the tail of the queue.
 *
 * An abandoned claim keeps its node, token bytes and all, as an unknown
 * record: the next claim takes it over in place, with no allocation.
 *
 * When the zone is full, room is made from the tail, oldest first: first
 * expired records, then completed and unknown ones (a cache of the past:
 * losing one only lets a very late duplicate through, or a retry through
 * unflagged).  A live claim is never
 * evicted, as that would let a concurrent duplicate through at once.  If
 * nothing can go, the operation answers DOWN ("is full"), so a webhook is
 * refused with 503 under pay_store_fail closed and the provider retries.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "ngx_http_pay_module.h"
#include "pay_siphash.h"


/* expired records freed by each claim */
#define NGX_HTTP_PAY_STORE_SHM_EXPIRE  3

/* records looked at, per pass, to make room in a full zone */
#define NGX_HTTP_PAY_STORE_SHM_EVICT   128


#define ngx_http_pay_store_shm_expired(sn)                                    \
    ((ngx_msec_int_t) ((sn)->expires - ngx_current_msec) <= 0)

/* the low 32 bits: a zone never has more than 2^32 buckets */
#define ngx_http_pay_store_shm_hash(ctx, key)                                 \
    ((uint32_t) pay_siphash24((ctx)->sh->hash_key, (key)->data, (key)->len))

#define ngx_http_pay_store_shm_size(klen, vlen)                               \
    (offsetof(ngx_http_pay_store_shm_node_t, data) + (klen) + (vlen))

/* zone bytes per bucket: at most two records of 128 bytes per chain */
#define NGX_HTTP_PAY_STORE_SHM_BUCKET  256

/* the records of a chain whose tags its bucket holds */
#define NGX_HTTP_PAY_STORE_SHM_TAGS    3

/* the length a bucket counts to: from there on it stays, and is walked */
#define NGX_HTTP_PAY_STORE_SHM_LONG    0xffff

/*
 * The high half of the hash: the bucket is chosen by the low bits, which
 * the records of a bucket share; they can differ in the 12 of these 16
 * bits above the mask in a zone of 256 MiB (a million buckets), in 8 in
 * one of 4 GiB: a tag shared by another key only costs a record read
 */
#define ngx_http_pay_store_shm_tag(hash)  ((uint16_t) ((hash) >> 16))


typedef struct ngx_http_pay_store_shm_node_s  ngx_http_pay_store_shm_node_t;

struct ngx_http_pay_store_shm_node_s {
    ngx_http_pay_store_shm_node_t  *next;     /* in its bucket */
    ngx_queue_t                     queue;
    ngx_msec_t                      expires;
    uint32_t                        hash;     /* of the key: the bucket */
    uint32_t                        vlen;     /* of the token or value */
    u_short                         len;      /* of the key */
    u_char                          state;    /* PROCESSING, DONE, or
                                                 RETRY: unknown */
    u_char                          data[1];  /* key, token or value */
};


typedef struct {
    ngx_http_pay_store_shm_node_t  *first;
    uint16_t                        len;      /* records in the chain */
    uint16_t                        tag[NGX_HTTP_PAY_STORE_SHM_TAGS];
} ngx_http_pay_store_shm_bucket_t;


typedef struct {
    ngx_http_pay_store_shm_bucket_t  *buckets;
    ngx_uint_t                        mask;     /* buckets - 1 */
    ngx_queue_t                       queue;
    u_char                            hash_key[PAY_SIPHASH_KEY_LEN];
} ngx_http_pay_store_shm_sh_t;


typedef struct {
    ngx_http_pay_store_shm_sh_t    *sh;
    ngx_slab_pool_t                *shpool;
    ngx_http_pay_store_t           *store;
} ngx_http_pay_store_shm_ctx_t;


static char *ngx_http_pay_store_shm_conf(ngx_conf_t *cf,
    ngx_http_pay_store_t *store, ngx_str_t *args, ngx_uint_t nargs);
static ngx_int_t ngx_http_pay_store_shm_claim(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_shm_complete(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_shm_release(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_shm_get(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_shm_abandon(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_shm_take_over(
    ngx_http_pay_store_shm_ctx_t *ctx, ngx_http_pay_store_shm_node_t *sn,
    ngx_http_pay_store_op_t *op);
static ngx_http_pay_store_shm_node_t *ngx_http_pay_store_shm_insert(
    ngx_http_pay_store_shm_ctx_t *ctx, ngx_str_t *key, uint32_t hash,
    ngx_uint_t state, ngx_str_t *value, ngx_msec_t ttl);
static ngx_int_t ngx_http_pay_store_shm_valid(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op);
static ngx_http_pay_store_shm_node_t *ngx_http_pay_store_shm_lookup(
    ngx_http_pay_store_shm_ctx_t *ctx, ngx_str_t *key, uint32_t hash);
static ngx_uint_t ngx_http_pay_store_shm_owner(
    ngx_http_pay_store_shm_node_t *sn, ngx_http_pay_store_op_t *op);
static ngx_int_t ngx_http_pay_store_shm_found(
    ngx_http_pay_store_shm_node_t *sn, ngx_http_pay_store_op_t *op);
static ngx_http_pay_store_shm_node_t *ngx_http_pay_store_shm_alloc(
    ngx_http_pay_store_shm_ctx_t *ctx, size_t size);
static size_t ngx_http_pay_store_shm_slot(size_t size);
static void ngx_http_pay_store_shm_link(ngx_http_pay_store_shm_ctx_t *ctx,
    ngx_http_pay_store_shm_node_t *sn);
static void ngx_http_pay_store_shm_expire(ngx_http_pay_store_shm_ctx_t *ctx);
static void ngx_http_pay_store_shm_delete(ngx_http_pay_store_shm_ctx_t *ctx,
    ngx_http_pay_store_shm_node_t *sn);
static void ngx_http_pay_store_shm_log(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op, const char *what);
static ngx_int_t ngx_http_pay_store_shm_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


ngx_http_pay_store_engine_t  ngx_http_pay_store_shm_engine = {
    ngx_string("shm"),
    ngx_http_pay_store_shm_conf,
    ngx_http_pay_store_shm_claim,
    ngx_http_pay_store_shm_complete,
    ngx_http_pay_store_shm_release,
    ngx_http_pay_store_shm_get,
    ngx_http_pay_store_shm_abandon,
    NULL,
    NULL,
    NULL,                                   /* always up */
    NULL,
    ngx_null_string
};


static ngx_int_t
ngx_http_pay_store_shm_claim(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    uint32_t                        hash;
    const char                     *err;
    ngx_http_pay_store_shm_ctx_t   *ctx;
    ngx_http_pay_store_shm_node_t  *sn;

    if (ngx_http_pay_store_shm_valid(store, op) != NGX_OK) {
        return NGX_OK;
    }

    ctx = store->data;
    hash = ngx_http_pay_store_shm_hash(ctx, &op->key);
    err = NULL;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ngx_http_pay_store_shm_expire(ctx);

    sn = ngx_http_pay_store_shm_lookup(ctx, &op->key, hash);

    if (sn != NULL && sn->state == NGX_HTTP_PAY_STORE_RETRY) {
        if (ngx_http_pay_store_shm_take_over(ctx, sn, op) != NGX_OK) {
            err = "could not take over an unknown record";
        }

        goto done;
    }

    if (sn != NULL) {
        if (ngx_http_pay_store_shm_found(sn, op) != NGX_OK) {
            err = "could not copy a value";
        }

        goto done;
    }

    if (ngx_http_pay_store_shm_insert(ctx, &op->key, hash,
                                      NGX_HTTP_PAY_STORE_PROCESSING,
                                      &op->token, op->ttl)
        == NULL)
    {
        err = "is full";
        goto done;
    }

    op->result = NGX_HTTP_PAY_STORE_NEW;

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (err != NULL) {
        ngx_http_pay_store_shm_log(store, op, err);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_store_shm_complete(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    size_t                          size;
    uint32_t                        hash;
    ngx_http_pay_store_shm_ctx_t   *ctx;
    ngx_http_pay_store_shm_node_t  *sn, *nsn;

    if (ngx_http_pay_store_shm_valid(store, op) != NGX_OK) {
        return NGX_OK;
    }

    if (op->value.len > NGX_HTTP_PAY_STORE_VALUE_MAX) {
        ngx_http_pay_store_shm_log(store, op, "refused a value");
        return NGX_OK;
    }

    ctx = store->data;
    hash = ngx_http_pay_store_shm_hash(ctx, &op->key);
    size = ngx_http_pay_store_shm_size(op->key.len, op->value.len);

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_pay_store_shm_lookup(ctx, &op->key, hash);

    if (sn == NULL) {
        /*
         * The claim expired and nobody claimed since: what happened is
         * still worth keeping (the app took the event, or may have).
         */
        sn = ngx_http_pay_store_shm_insert(ctx, &op->key, hash,
                                           NGX_HTTP_PAY_STORE_DONE,
                                           &op->value, op->ttl);
        ngx_shmtx_unlock(&ctx->shpool->mutex);

        if (sn == NULL) {
            ngx_http_pay_store_shm_log(store, op, "is full");
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_WARN, op->log ? op->log : ngx_cycle->log, 0,
                      "pay_store \"%V\": the claim on \"%V\" expired "
                      "before completion (is lock= shorter than the "
                      "upstream's timeouts?); completed all the same",
                      &store->name, &op->key);

        op->result = NGX_HTTP_PAY_STORE_OK;
        return NGX_OK;
    }

    if (!ngx_http_pay_store_shm_owner(sn, op)) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);

        op->result = NGX_HTTP_PAY_STORE_NOT_OWNER;

        if (op->handler == NULL) {
            ngx_log_error(NGX_LOG_WARN, op->log ? op->log : ngx_cycle->log,
                          0, "pay_store \"%V\": the claim on \"%V\" "
                          "expired before completion", &store->name,
                          &op->key);
        }

        return NGX_OK;
    }

    /*
     * A completed record that fits the claim's slab slot is written in
     * place, even when a smaller slot would do: a record keeps one slot
     * size for its life.  Moving webhook records to smaller slots than
     * their claims' filled full zones with pages of small slots that
     * evicting the oldest records seldom emptied, and a claim then found
     * no slot at all ("is full" with nothing in flight).  A larger value,
     * an intent's answer, needs a fresh node.
     */

    nsn = NULL;

    if (size > ngx_http_pay_store_shm_slot(
                   ngx_http_pay_store_shm_size(sn->len, sn->vlen)))
    {
        nsn = ngx_http_pay_store_shm_alloc(ctx, size);

        if (nsn == NULL) {
            ngx_shmtx_unlock(&ctx->shpool->mutex);
            ngx_http_pay_store_shm_log(store, op, "is full");
            return NGX_OK;
        }
    }

    if (nsn == NULL) {
        ngx_queue_remove(&sn->queue);

    } else {
        nsn->hash = hash;
        nsn->len = sn->len;
        ngx_memcpy(nsn->data, sn->data, sn->len);

        ngx_http_pay_store_shm_delete(ctx, sn);

        sn = nsn;
        ngx_http_pay_store_shm_link(ctx, sn);
    }

    sn->state = NGX_HTTP_PAY_STORE_DONE;
    sn->vlen = (uint32_t) op->value.len;
    sn->expires = ngx_current_msec + op->ttl;

    ngx_memcpy(sn->data + sn->len, op->value.data, op->value.len);

    ngx_queue_insert_head(&ctx->sh->queue, &sn->queue);

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    op->result = NGX_HTTP_PAY_STORE_OK;

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_store_shm_release(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    uint32_t                        hash;
    ngx_http_pay_store_shm_ctx_t   *ctx;
    ngx_http_pay_store_shm_node_t  *sn;

    if (ngx_http_pay_store_shm_valid(store, op) != NGX_OK) {
        return NGX_OK;
    }

    ctx = store->data;
    hash = ngx_http_pay_store_shm_hash(ctx, &op->key);

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_pay_store_shm_lookup(ctx, &op->key, hash);

    if (ngx_http_pay_store_shm_owner(sn, op)) {
        ngx_http_pay_store_shm_delete(ctx, sn);
        op->result = NGX_HTTP_PAY_STORE_OK;

    } else {
        op->result = NGX_HTTP_PAY_STORE_NOT_OWNER;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return NGX_OK;
}


static ngx_int_t
ngx_http_pay_store_shm_get(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    uint32_t                        hash;
    ngx_int_t                       rc;
    ngx_http_pay_store_shm_ctx_t   *ctx;
    ngx_http_pay_store_shm_node_t  *sn;

    if (ngx_http_pay_store_shm_valid(store, op) != NGX_OK) {
        return NGX_OK;
    }

    ctx = store->data;
    hash = ngx_http_pay_store_shm_hash(ctx, &op->key);

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_pay_store_shm_lookup(ctx, &op->key, hash);

    if (sn == NULL) {
        op->result = NGX_HTTP_PAY_STORE_ABSENT;
        rc = NGX_OK;

    } else {
        rc = ngx_http_pay_store_shm_found(sn, op);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (rc != NGX_OK) {
        ngx_http_pay_store_shm_log(store, op, "could not copy a value");
    }

    return NGX_OK;
}


/* the claim's node becomes an unknown record: no allocation can fail */

static ngx_int_t
ngx_http_pay_store_shm_abandon(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    uint32_t                        hash;
    ngx_uint_t                      expired;
    ngx_http_pay_store_shm_ctx_t   *ctx;
    ngx_http_pay_store_shm_node_t  *sn;

    expired = 0;

    if (ngx_http_pay_store_shm_valid(store, op) != NGX_OK) {
        return NGX_OK;
    }

    ctx = store->data;
    hash = ngx_http_pay_store_shm_hash(ctx, &op->key);

    ngx_shmtx_lock(&ctx->shpool->mutex);

    sn = ngx_http_pay_store_shm_lookup(ctx, &op->key, hash);

    if (ngx_http_pay_store_shm_owner(sn, op)) {
        sn->state = NGX_HTTP_PAY_STORE_RETRY;
        sn->expires = ngx_current_msec + op->ttl;

        ngx_queue_remove(&sn->queue);
        ngx_queue_insert_head(&ctx->sh->queue, &sn->queue);

        op->result = NGX_HTTP_PAY_STORE_OK;

    } else if (sn == NULL) {
        /*
         * The claim expired and nobody claimed since: still unknown.  The
         * record keeps the room of a claim token, which the next claim
         * takes it over with, in place.
         */
        op->result = ngx_http_pay_store_shm_insert(ctx, &op->key, hash,
                                                   NGX_HTTP_PAY_STORE_RETRY,
                                                   &op->token, op->ttl)
                     ? NGX_HTTP_PAY_STORE_OK : NGX_HTTP_PAY_STORE_DOWN;
        expired = 1;

    } else {
        op->result = NGX_HTTP_PAY_STORE_NOT_OWNER;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (op->result == NGX_HTTP_PAY_STORE_DOWN) {
        ngx_http_pay_store_shm_log(store, op, "is full");

    } else if (expired || op->result == NGX_HTTP_PAY_STORE_NOT_OWNER) {
        ngx_log_error(NGX_LOG_WARN, op->log ? op->log : ngx_cycle->log, 0,
                      "pay_store \"%V\": the claim on \"%V\" expired before "
                      "it was given up (is lock= shorter than the "
                      "upstream's timeouts?)%s", &store->name, &op->key,
                      expired ? "; marked unknown all the same" : "");
    }

    return NGX_OK;
}


/*
 * An unknown record, claimed in place: its node was made for a claim, so
 * a token of the same length fits.  Called with the mutex held.
 */

static ngx_int_t
ngx_http_pay_store_shm_take_over(ngx_http_pay_store_shm_ctx_t *ctx,
    ngx_http_pay_store_shm_node_t *sn, ngx_http_pay_store_op_t *op)
{
    if (sn->vlen != op->token.len) {
        op->result = NGX_HTTP_PAY_STORE_DOWN;
        return NGX_ERROR;
    }

    sn->state = NGX_HTTP_PAY_STORE_PROCESSING;
    sn->expires = ngx_current_msec + op->ttl;

    ngx_memcpy(sn->data + sn->len, op->token.data, op->token.len);

    ngx_queue_remove(&sn->queue);
    ngx_queue_insert_head(&ctx->sh->queue, &sn->queue);

    op->result = NGX_HTTP_PAY_STORE_RETRY;

    return NGX_OK;
}


/* DOWN for a key that no record may hold */

static ngx_int_t
ngx_http_pay_store_shm_valid(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op)
{
    ngx_str_null(&op->found);

    if (op->key.len == 0 || op->key.len > NGX_HTTP_PAY_STORE_KEY_MAX) {
        op->result = NGX_HTTP_PAY_STORE_DOWN;

        ngx_log_error(NGX_LOG_ERR, op->log ? op->log : ngx_cycle->log, 0,
                      "pay_store \"%V\" refused a key of %uz bytes",
                      &store->name, op->key.len);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a live record, or NULL: an expired one found on the way is freed */

static ngx_http_pay_store_shm_node_t *
ngx_http_pay_store_shm_lookup(ngx_http_pay_store_shm_ctx_t *ctx,
    ngx_str_t *key, uint32_t hash)
{
    uint16_t                          tag;
    ngx_uint_t                        i;
    ngx_http_pay_store_shm_node_t    *sn;
    ngx_http_pay_store_shm_bucket_t  *b;

    b = &ctx->sh->buckets[hash & ctx->sh->mask];

    if (b->len <= NGX_HTTP_PAY_STORE_SHM_TAGS) {
        tag = ngx_http_pay_store_shm_tag(hash);

        for (i = 0; i < b->len && b->tag[i] != tag; i++) {
            /* void */
        }

        if (i == b->len) {
            /* no record of the chain can be the key's: none is read */
            return NULL;
        }
    }

    for (sn = b->first; sn != NULL; sn = sn->next) {
        if (sn->hash != hash
            || sn->len != key->len
            || ngx_memcmp(sn->data, key->data, key->len) != 0)
        {
            continue;
        }

        if (ngx_http_pay_store_shm_expired(sn)) {
            ngx_http_pay_store_shm_delete(ctx, sn);
            return NULL;
        }

        return sn;
    }

    return NULL;
}


static ngx_uint_t
ngx_http_pay_store_shm_owner(ngx_http_pay_store_shm_node_t *sn,
    ngx_http_pay_store_op_t *op)
{
    return sn != NULL
           && sn->state == NGX_HTTP_PAY_STORE_PROCESSING
           && sn->vlen == op->token.len
           && ngx_memcmp(sn->data + sn->len, op->token.data, op->token.len)
              == 0;
}


/*
 * The record's state as the result; its value (or claim token) is copied
 * to op->pool, as the zone may change once the mutex is released.
 * NGX_ERROR: no memory.
 */

static ngx_int_t
ngx_http_pay_store_shm_found(ngx_http_pay_store_shm_node_t *sn,
    ngx_http_pay_store_op_t *op)
{
    u_char  *p;

    if (sn->state == NGX_HTTP_PAY_STORE_RETRY) {
        /* unknown: no value */
        op->result = NGX_HTTP_PAY_STORE_RETRY;
        return NGX_OK;
    }

    /* processing: the claim's token; done: the value */

    op->result = (sn->state == NGX_HTTP_PAY_STORE_PROCESSING)
                 ? NGX_HTTP_PAY_STORE_PROCESSING : NGX_HTTP_PAY_STORE_DONE;

    if (op->pool == NULL || sn->vlen == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(op->pool, sn->vlen);
    if (p == NULL) {
        op->result = NGX_HTTP_PAY_STORE_DOWN;
        return NGX_ERROR;
    }

    ngx_memcpy(p, sn->data + sn->len, sn->vlen);

    op->found.data = p;
    op->found.len = sn->vlen;

    return NGX_OK;
}


/*
 * Makes room from the tail of the queue: a first pass frees expired
 * records only, a second one completed records too.  Live claims stay.
 */

static ngx_http_pay_store_shm_node_t *
ngx_http_pay_store_shm_alloc(ngx_http_pay_store_shm_ctx_t *ctx, size_t size)
{
    ngx_uint_t                      n, pass;
    ngx_queue_t                    *q;
    ngx_http_pay_store_shm_node_t  *sn, *node;

    node = ngx_slab_alloc_locked(ctx->shpool, size);
    if (node != NULL) {
        return node;
    }

    for (pass = 0; pass < 2; pass++) {

        q = ngx_queue_last(&ctx->sh->queue);

        for (n = 0;
             n < NGX_HTTP_PAY_STORE_SHM_EVICT
             && q != ngx_queue_sentinel(&ctx->sh->queue);
             n++)
        {
            sn = ngx_queue_data(q, ngx_http_pay_store_shm_node_t, queue);
            q = ngx_queue_prev(q);

            if (!ngx_http_pay_store_shm_expired(sn)
                && (pass == 0 || sn->state == NGX_HTTP_PAY_STORE_PROCESSING))
            {
                continue;
            }

            ngx_http_pay_store_shm_delete(ctx, sn);

            node = ngx_slab_alloc_locked(ctx->shpool, size);
            if (node != NULL) {
                return node;
            }
        }
    }

    return NULL;
}


static void
ngx_http_pay_store_shm_expire(ngx_http_pay_store_shm_ctx_t *ctx)
{
    ngx_uint_t                      n;
    ngx_queue_t                    *q;
    ngx_http_pay_store_shm_node_t  *sn;

    for (n = 0; n < NGX_HTTP_PAY_STORE_SHM_EXPIRE; n++) {

        if (ngx_queue_empty(&ctx->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&ctx->sh->queue);
        sn = ngx_queue_data(q, ngx_http_pay_store_shm_node_t, queue);

        if (!ngx_http_pay_store_shm_expired(sn)) {
            return;
        }

        ngx_http_pay_store_shm_delete(ctx, sn);
    }
}


static void
ngx_http_pay_store_shm_delete(ngx_http_pay_store_shm_ctx_t *ctx,
    ngx_http_pay_store_shm_node_t *sn)
{
    ngx_uint_t                        i;
    ngx_http_pay_store_shm_node_t   **p;
    ngx_http_pay_store_shm_bucket_t  *b;

    ngx_queue_remove(&sn->queue);

    b = &ctx->sh->buckets[sn->hash & ctx->sh->mask];

    for (p = &b->first, i = 0; *p != sn; p = &(*p)->next, i++) {
        /* void */
    }

    *p = sn->next;

    if (b->len != NGX_HTTP_PAY_STORE_SHM_LONG) {
        b->len--;
    }

    if (i < NGX_HTTP_PAY_STORE_SHM_TAGS) {

        /* the tags after it move up, the next record's tag comes in */

        for ( /* void */ ;
             i < NGX_HTTP_PAY_STORE_SHM_TAGS - 1 && *p != NULL;
             i++)
        {
            b->tag[i] = b->tag[i + 1];
            p = &(*p)->next;
        }

        if (i == NGX_HTTP_PAY_STORE_SHM_TAGS - 1 && *p != NULL) {
            b->tag[i] = ngx_http_pay_store_shm_tag((*p)->hash);
        }
    }

    ngx_slab_free_locked(ctx->shpool, sn);
}


/* a new record into its bucket, called with the mutex held */

static void
ngx_http_pay_store_shm_link(ngx_http_pay_store_shm_ctx_t *ctx,
    ngx_http_pay_store_shm_node_t *sn)
{
    ngx_uint_t                        i;
    ngx_http_pay_store_shm_bucket_t  *b;

    b = &ctx->sh->buckets[sn->hash & ctx->sh->mask];

    sn->next = b->first;
    b->first = sn;

    if (b->len != NGX_HTTP_PAY_STORE_SHM_LONG) {
        b->len++;
    }

    for (i = NGX_HTTP_PAY_STORE_SHM_TAGS - 1; i > 0; i--) {
        b->tag[i] = b->tag[i - 1];
    }

    b->tag[0] = ngx_http_pay_store_shm_tag(sn->hash);
}


/* the slab slot an allocation of size takes: as ngx_slab_alloc rounds */

static size_t
ngx_http_pay_store_shm_slot(size_t size)
{
    size_t  slot;

    if (size > ngx_pagesize / 2) {
        return ngx_align(size, ngx_pagesize);
    }

    for (slot = 8; slot < size; slot <<= 1) {
        /* void */
    }

    return slot;
}


/* DOWN, logged: called with the mutex released */

static void
ngx_http_pay_store_shm_log(ngx_http_pay_store_t *store,
    ngx_http_pay_store_op_t *op, const char *what)
{
    op->result = NGX_HTTP_PAY_STORE_DOWN;

    ngx_log_error(NGX_LOG_ERR, op->log ? op->log : ngx_cycle->log, 0,
                  "pay_store \"%V\" %s, key \"%V\"", &store->name, what,
                  &op->key);
}


static ngx_int_t
ngx_http_pay_store_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_pay_store_shm_ctx_t  *octx = data;

    size_t                         len;
    ngx_uint_t                     n;
    const char                    *reason;
    ngx_http_pay_store_shm_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        /* a reload with the zone's size unchanged: the records live on */

        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;

        return NGX_OK;
    }

    ctx->sh = ngx_slab_alloc(ctx->shpool, sizeof(ngx_http_pay_store_shm_sh_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    /* a secret: whoever knows it can aim keys at one bucket */

    if (RAND_priv_bytes(ctx->sh->hash_key, sizeof(ctx->sh->hash_key)) != 1) {
        reason = ERR_reason_error_string(ERR_peek_last_error());
        ERR_clear_error();

        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "pay_store \"%V\": could not draw the key of its "
                      "hash table: RAND_priv_bytes() failed (%s)",
                      &ctx->store->name, reason ? reason : "no reason");
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    /* a power of two, one bucket per 256 bytes of zone */

    for (n = 16;
         n * 2 <= shm_zone->shm.size / NGX_HTTP_PAY_STORE_SHM_BUCKET;
         n <<= 1)
    {
        /* void */
    }

    ctx->sh->buckets = ngx_slab_calloc(ctx->shpool,
                           n * sizeof(ngx_http_pay_store_shm_bucket_t));
    if (ctx->sh->buckets == NULL) {
        return NGX_ERROR;
    }

    ctx->sh->mask = n - 1;

    ngx_queue_init(&ctx->sh->queue);

    len = sizeof(" in pay_store \"\"") + ctx->store->name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in pay_store \"%V\"%Z",
                &ctx->store->name);

    /* a full zone evicts and then says so itself */
    ctx->shpool->log_nomem = 0;

    return NGX_OK;
}


/* shm=SIZE: the zone is "pay_store_NAME" */

static char *
ngx_http_pay_store_shm_conf(ngx_conf_t *cf, ngx_http_pay_store_t *store,
    ngx_str_t *args, ngx_uint_t nargs)
{
    ssize_t                        size;
    ngx_str_t                      s, name;
    ngx_uint_t                     i;
    ngx_shm_zone_t                *shm_zone;
    ngx_http_pay_store_shm_ctx_t  *ctx;

    size = 0;

    for (i = 0; i < nargs; i++) {

        if (size == 0 && ngx_strncmp(args[i].data, "shm=", 4) == 0) {

            s.data = args[i].data + 4;
            s.len = args[i].len - 4;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "pay_store \"%V\": invalid size \"%V\"",
                                   &store->name, &args[i]);
                return NGX_CONF_ERROR;
            }

            if (size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "pay_store \"%V\": \"%V\" is too small, "
                                   "%uzk at least", &store->name, &args[i],
                                   8 * ngx_pagesize / 1024);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &args[i]);
        return NGX_CONF_ERROR;
    }

    if (size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_store \"%V\" needs \"shm=SIZE\"",
                           &store->name);
        return NGX_CONF_ERROR;
    }

    name.len = sizeof("pay_store_") - 1 + store->name.len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(name.data, "pay_store_%V", &store->name);

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_pay_store_shm_ctx_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    ctx->store = store;

    shm_zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_pay_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_store \"%V\": shared memory zone \"%V\" "
                           "is already in use", &store->name, &name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_pay_store_shm_init_zone;
    shm_zone->data = ctx;

    store->data = ctx;

    return NGX_CONF_OK;
}


/* a new record under the mutex; NULL when the zone is full */

static ngx_http_pay_store_shm_node_t *
ngx_http_pay_store_shm_insert(ngx_http_pay_store_shm_ctx_t *ctx,
    ngx_str_t *key, uint32_t hash, ngx_uint_t state, ngx_str_t *value,
    ngx_msec_t ttl)
{
    ngx_http_pay_store_shm_node_t  *sn;

    sn = ngx_http_pay_store_shm_alloc(ctx,
             ngx_http_pay_store_shm_size(key->len, value->len));
    if (sn == NULL) {
        return NULL;
    }

    sn->hash = hash;
    sn->state = (u_char) state;
    sn->len = (u_short) key->len;
    sn->vlen = (uint32_t) value->len;
    sn->expires = ngx_current_msec + ttl;

    ngx_memcpy(sn->data, key->data, key->len);

    if (value->len) {
        ngx_memcpy(sn->data + key->len, value->data, value->len);
    }

    ngx_http_pay_store_shm_link(ctx, sn);
    ngx_queue_insert_head(&ctx->sh->queue, &sn->queue);

    return sn;
}
