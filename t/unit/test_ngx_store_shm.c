
/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of the shared-memory store engine
 * (ngx_pay_module/ngx_http_pay_store_shm.c), compiled against the real
 * nginx headers.  The engine's file is included, not linked: its zone
 * types and static functions are what is checked.  A zone is laid out in
 * ordinary memory as nginx lays one out (ngx_init_zone_pool()), run by
 * nginx's own slab allocator, and made by the engine's init function; the
 * operations are called through ngx_http_pay_store_shm_engine.
 *
 * After every operation the whole zone is walked: each bucket's length and
 * tags against its chain, each record in the bucket its hash selects, the
 * age queue holding the chains' records, and every key against a model of
 * what the zone holds.  Records the model has completed or unknown may go
 * only in an operation that found the zone full (an allocation failed);
 * a live claim never goes.
 *
 * PAY_SHM_SEED=n runs the model test with that seed alone.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "ngx_http_pay_module.h"
#include "ngx_stub.h"


/* the engine's allocations, counted: a failure means a full zone */
static void *test_slab_alloc_locked(ngx_slab_pool_t *pool, size_t size);

#define ngx_slab_alloc_locked  test_slab_alloc_locked
#include "ngx_http_pay_store_shm.c"
#undef ngx_slab_alloc_locked


#define TOKEN_LEN   NGX_HTTP_PAY_STORE_TOKEN_LEN
#define NKEYS       300
#define VALUE_MAX   6000

/* a time a little before ngx_msec_t wraps: the run goes across */
#define START_MSEC  ((ngx_msec_t) 0 - 200000)

#define M_ABSENT      0
#define M_PROCESSING  1
#define M_DONE        2
#define M_UNKNOWN     3


typedef struct {
    u_char                         *addr;
    size_t                          size;
    ngx_shm_zone_t                  shm_zone;
    ngx_http_pay_store_t            store;
    ngx_http_pay_store_shm_ctx_t    ctx;
} zone_t;


typedef struct {
    ngx_str_t                       key;
    ngx_uint_t                      state;
    ngx_msec_t                      expires;
    u_char                          token[TOKEN_LEN];
    size_t                          vlen;
    u_char                         *value;
} mkey_t;


typedef struct {
    ngx_uint_t                      ops;
    ngx_uint_t                      full;      /* ops that met a full zone */
    ngx_uint_t                      down;
    ngx_uint_t                      evicted;
    ngx_uint_t                      max_chain;
    ngx_uint_t                      max_records;
} stats_t;


ngx_module_t  ngx_http_pay_module;

static ngx_uint_t  failed_allocs;
static ngx_log_t   test_log;
static ngx_pool_t  test_pool;
static uint64_t    rnd_state;


static int group_setup(void **state);
static int reset(void **state);
static void zone_init(zone_t *z, size_t size);
static void zone_free(zone_t *z);
static ngx_http_pay_store_result_e run(zone_t *z, ngx_http_pay_store_op_pt op,
    ngx_str_t *key, u_char *token, ngx_str_t *value, ngx_msec_t ttl,
    ngx_str_t *found);
static uint32_t hash_of(zone_t *z, ngx_str_t *key);
static ngx_uint_t zone_check(zone_t *z, ngx_uint_t *max_chain);
static int node_cmp(const void *a, const void *b);
static ngx_http_pay_store_shm_node_t *zone_find(zone_t *z, ngx_str_t *key);
static uint64_t rnd(void);
static ngx_uint_t rnd_below(ngx_uint_t n);
static void make_token(u_char *token);
static void model_seeds(size_t size, ngx_uint_t nops,
    ngx_uint_t expect_full);
static void model_run(size_t size, uint64_t seed, ngx_uint_t nops,
    stats_t *st);
static void model_op(zone_t *z, mkey_t *keys, ngx_uint_t nkeys,
    u_char *vbuf, stats_t *st);
static void model_reconcile(zone_t *z, mkey_t *keys, ngx_uint_t nkeys,
    mkey_t *opk, ngx_uint_t full, ngx_uint_t zlive, stats_t *st);
static ngx_uint_t model_live(mkey_t *k);
static void expect_found(ngx_uint_t m, mkey_t *k,
    ngx_http_pay_store_result_e rc, ngx_str_t *found);
static void bucket_keys(zone_t *z, ngx_uint_t bucket, ngx_str_t *keys,
    u_char *buf, ngx_uint_t n);
static void assert_bucket(zone_t *z, ngx_uint_t bucket, ngx_str_t **chain,
    ngx_uint_t n);

static void test_hash_key(void **state);
static void test_model_64k(void **state);
static void test_model_32k(void **state);
static void test_chain_delete(void **state);
static void test_tag_collision(void **state);
static void test_zone_reuse(void **state);
static void test_tag_no_read(void **state);


static void *
test_slab_alloc_locked(ngx_slab_pool_t *pool, size_t size)
{
    void  *p;

    p = ngx_slab_alloc_locked(pool, size);

    if (p == NULL) {
        failed_allocs++;
    }

    return p;
}


static int
group_setup(void **state)
{
    (void) state;

    ngx_stub_reset();
    ngx_slab_sizes_init();

    return 0;
}


static int
reset(void **state)
{
    (void) state;

    ngx_stub_reset();
    ngx_current_msec = START_MSEC;
    failed_allocs = 0;

    return 0;
}


/* as ngx_init_zone_pool() lays out a new zone, then the engine's init */

static void
zone_init(zone_t *z, size_t size)
{
    ngx_slab_pool_t  *sp;

    ngx_memzero(z, sizeof(zone_t));

    z->addr = aligned_alloc(ngx_pagesize, size);
    assert_non_null(z->addr);
    ngx_memzero(z->addr, size);

    z->size = size;

    sp = (ngx_slab_pool_t *) z->addr;
    sp->end = z->addr + size;
    sp->min_shift = 3;
    sp->addr = z->addr;

    ngx_slab_init(sp);

    ngx_str_set(&z->store.name, "test");
    z->store.engine = &ngx_http_pay_store_shm_engine;
    z->store.data = &z->ctx;
    z->ctx.store = &z->store;

    z->shm_zone.shm.addr = z->addr;
    z->shm_zone.shm.size = size;
    z->shm_zone.shm.log = &test_log;
    z->shm_zone.data = &z->ctx;

    assert_int_equal(ngx_http_pay_store_shm_init_zone(&z->shm_zone, NULL),
                     NGX_OK);
    assert_ptr_equal(z->ctx.shpool, sp);
    assert_non_null(z->ctx.sh);

    zone_check(z, NULL);
}


static void
zone_free(zone_t *z)
{
    free(z->addr);
    z->addr = NULL;
}


/* one operation: its result; found, if not NULL, gets op->found */

static ngx_http_pay_store_result_e
run(zone_t *z, ngx_http_pay_store_op_pt op, ngx_str_t *key, u_char *token,
    ngx_str_t *value, ngx_msec_t ttl, ngx_str_t *found)
{
    ngx_http_pay_store_op_t  o;

    ngx_memzero(&o, sizeof(ngx_http_pay_store_op_t));

    o.key = *key;

    if (token != NULL) {
        o.token.data = token;
        o.token.len = TOKEN_LEN;
    }

    if (value != NULL) {
        o.value = *value;
    }

    o.ttl = ttl;
    o.pool = &test_pool;
    o.log = &test_log;
    o.result = (ngx_http_pay_store_result_e) -1;

    assert_int_equal(op(&z->store, &o), NGX_OK);

    if (found != NULL) {
        *found = o.found;
    }

    return o.result;
}


static uint32_t
hash_of(zone_t *z, ngx_str_t *key)
{
    return ngx_http_pay_store_shm_hash(&z->ctx, key);
}


/*
 * Every bucket against its chain, every record in its bucket, the queue
 * against the chains; the number of live records.
 */

static ngx_uint_t
zone_check(zone_t *z, ngx_uint_t *max_chain)
{
    u_char                           *seen;
    ngx_str_t                         key;
    ngx_uint_t                        i, n, count, max, live, queued;
    ngx_queue_t                      *q;
    ngx_http_pay_store_shm_sh_t      *sh;
    ngx_http_pay_store_shm_node_t    *sn, *o, **nodes, **found;
    ngx_http_pay_store_shm_bucket_t  *b;

    sh = z->ctx.sh;
    max = z->size / 64;

    nodes = malloc(max * sizeof(ngx_http_pay_store_shm_node_t *));
    seen = calloc(max, 1);
    assert_non_null(nodes);
    assert_non_null(seen);

    count = 0;
    live = 0;

    for (i = 0; i <= sh->mask; i++) {
        b = &sh->buckets[i];
        n = 0;

        for (sn = b->first; sn != NULL; sn = sn->next) {
            assert_true((u_char *) sn > z->addr
                        && (u_char *) sn < z->addr + z->size);
            assert_true(sn->len > 0
                        && sn->len <= NGX_HTTP_PAY_STORE_KEY_MAX);

            key.data = sn->data;
            key.len = sn->len;

            assert_int_equal(sn->hash, hash_of(z, &key));
            assert_int_equal(sn->hash & sh->mask, i);

            if (n < NGX_HTTP_PAY_STORE_SHM_TAGS) {
                assert_int_equal(b->tag[n],
                                 ngx_http_pay_store_shm_tag(sn->hash));
            }

            /* one record a key */
            for (o = b->first; o != sn; o = o->next) {
                assert_false(o->len == sn->len
                             && ngx_memcmp(o->data, sn->data, sn->len) == 0);
            }

            assert_true(count < max);
            nodes[count++] = sn;
            n++;

            if (!ngx_http_pay_store_shm_expired(sn)) {
                live++;
            }
        }

        if (b->len != NGX_HTTP_PAY_STORE_SHM_LONG) {
            assert_int_equal(b->len, n);

        } else {
            assert_true(n >= NGX_HTTP_PAY_STORE_SHM_LONG);
        }

        if (max_chain != NULL && n > *max_chain) {
            *max_chain = n;
        }
    }

    qsort(nodes, count, sizeof(ngx_http_pay_store_shm_node_t *), node_cmp);

    queued = 0;

    for (q = ngx_queue_head(&sh->queue);
         q != ngx_queue_sentinel(&sh->queue);
         q = ngx_queue_next(q))
    {
        assert_ptr_equal(ngx_queue_prev(ngx_queue_next(q)), q);

        sn = ngx_queue_data(q, ngx_http_pay_store_shm_node_t, queue);

        found = bsearch(&sn, nodes, count,
                        sizeof(ngx_http_pay_store_shm_node_t *), node_cmp);
        assert_non_null(found);

        /* queued once */
        assert_int_equal(seen[found - nodes], 0);
        seen[found - nodes] = 1;

        queued++;
    }

    assert_int_equal(queued, count);

    free(seen);
    free(nodes);

    return live;
}


static int
node_cmp(const void *a, const void *b)
{
    uintptr_t  x, y;

    x = (uintptr_t) *(ngx_http_pay_store_shm_node_t **) a;
    y = (uintptr_t) *(ngx_http_pay_store_shm_node_t **) b;

    return (x > y) - (x < y);
}


/* the key's record, expired or not, walking its chain: not lookup() */

static ngx_http_pay_store_shm_node_t *
zone_find(zone_t *z, ngx_str_t *key)
{
    uint32_t                        hash;
    ngx_http_pay_store_shm_node_t  *sn;

    hash = hash_of(z, key);

    for (sn = z->ctx.sh->buckets[hash & z->ctx.sh->mask].first;
         sn != NULL;
         sn = sn->next)
    {
        if (sn->len == key->len
            && ngx_memcmp(sn->data, key->data, key->len) == 0)
        {
            return sn;
        }
    }

    return NULL;
}


/* xorshift64*: the same run for the same seed */

static uint64_t
rnd(void)
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;

    return rnd_state * 0x2545f4914f6cdd1dULL;
}


static ngx_uint_t
rnd_below(ngx_uint_t n)
{
    return (ngx_uint_t) ((rnd() >> 11) % n);
}


static void
make_token(u_char *token)
{
    ngx_uint_t  i;

    for (i = 0; i < TOKEN_LEN; i++) {
        token[i] = "0123456789abcdef"[rnd_below(16)];
    }
}


static ngx_uint_t
model_live(mkey_t *k)
{
    if (k->state == M_ABSENT
        || (ngx_msec_int_t) (k->expires - ngx_current_msec) <= 0)
    {
        return M_ABSENT;
    }

    return k->state;
}


/* a live record's answer: a claim's token, or a completed value */

static void
expect_found(ngx_uint_t m, mkey_t *k, ngx_http_pay_store_result_e rc,
    ngx_str_t *found)
{
    if (m == M_PROCESSING) {
        assert_int_equal(rc, NGX_HTTP_PAY_STORE_PROCESSING);
        assert_int_equal(found->len, TOKEN_LEN);
        assert_memory_equal(found->data, k->token, TOKEN_LEN);
        return;
    }

    assert_int_equal(rc, NGX_HTTP_PAY_STORE_DONE);
    assert_int_equal(found->len, k->vlen);

    if (k->vlen) {
        assert_memory_equal(found->data, k->value, k->vlen);
    }
}


/*
 * Random operations on NKEYS keys of 1 to 512 bytes (slots of 128 to
 * 1024 bytes), values of 0 to VALUE_MAX bytes and now and then one over
 * NGX_HTTP_PAY_STORE_VALUE_MAX, time moving on by steps.
 */

static void
model_run(size_t size, uint64_t seed, ngx_uint_t nops, stats_t *st)
{
    u_char      *vbuf;
    zone_t       z;
    mkey_t      *keys, *k;
    ngx_uint_t   i, j, len, r;

    rnd_state = seed * 0x9e3779b97f4a7c15ULL + 1;

    ngx_memzero(st, sizeof(stats_t));

    keys = calloc(NKEYS, sizeof(mkey_t));
    vbuf = malloc(NGX_HTTP_PAY_STORE_VALUE_MAX + 1);
    assert_non_null(keys);
    assert_non_null(vbuf);

    for (i = 0; i < NKEYS; i++) {
        k = &keys[i];

        r = rnd_below(100);
        len = r < 15 ? 1 + rnd_below(8)
              : r < 60 ? 9 + rnd_below(45)
              : r < 90 ? 54 + rnd_below(128)
              : 182 + rnd_below(NGX_HTTP_PAY_STORE_KEY_MAX - 181);

        k->key.len = len;
        k->key.data = malloc(len);
        k->value = malloc(VALUE_MAX);
        assert_non_null(k->key.data);
        assert_non_null(k->value);

    again:

        for (j = 0; j < len; j++) {
            k->key.data[j] = (u_char) rnd();
        }

        for (j = 0; j < i; j++) {
            if (keys[j].key.len == len
                && ngx_memcmp(keys[j].key.data, k->key.data, len) == 0)
            {
                goto again;
            }
        }
    }

    zone_init(&z, size);

    for (i = 0; i < nops; i++) {
        model_op(&z, keys, NKEYS, vbuf, st);
        ngx_stub_reset();
    }

    zone_free(&z);

    for (i = 0; i < NKEYS; i++) {
        free(keys[i].key.data);
        free(keys[i].value);
    }

    free(keys);
    free(vbuf);
}


static void
model_op(zone_t *z, mkey_t *keys, ngx_uint_t nkeys, u_char *vbuf,
    stats_t *st)
{
    u_char                       token[TOKEN_LEN];
    mkey_t                      *k;
    ngx_str_t                    value, found;
    ngx_msec_t                   ttl;
    ngx_uint_t                   r, m, full, live;
    ngx_http_pay_store_result_e  rc;

    r = rnd_below(100);

    if (r < 4) {
        ngx_current_msec += rnd_below(4) == 0 ? 30000 + rnd_below(90000)
                                              : rnd_below(3000);
        return;
    }

    k = &keys[rnd_below(nkeys)];
    m = model_live(k);

    /* the claim's own token mostly, another now and then */

    if (m == M_PROCESSING && rnd_below(5) != 0) {
        ngx_memcpy(token, k->token, TOKEN_LEN);

    } else {
        make_token(token);
    }

    ttl = 1 + rnd_below(rnd_below(3) == 0 ? 60000 : 5000);

    failed_allocs = 0;
    st->ops++;

    if (r < 40) {
        rc = run(z, ngx_http_pay_store_shm_engine.claim, &k->key, token, NULL,
                 ttl, &found);

        switch (m) {

        case M_ABSENT:
            if (rc == NGX_HTTP_PAY_STORE_DOWN) {
                assert_true(failed_allocs > 0);
                break;
            }

            assert_int_equal(rc, NGX_HTTP_PAY_STORE_NEW);

            k->state = M_PROCESSING;
            ngx_memcpy(k->token, token, TOKEN_LEN);
            k->expires = ngx_current_msec + ttl;
            break;

        case M_PROCESSING:
        case M_DONE:
            expect_found(m, k, rc, &found);
            break;

        default: /* M_UNKNOWN */
            assert_int_equal(rc, NGX_HTTP_PAY_STORE_RETRY);

            k->state = M_PROCESSING;
            ngx_memcpy(k->token, token, TOKEN_LEN);
            k->expires = ngx_current_msec + ttl;
        }

    } else if (r < 65) {
        r = rnd_below(100);
        value.len = r < 60 ? rnd_below(40)
                    : r < 90 ? rnd_below(400)
                    : r < 99 ? rnd_below(VALUE_MAX)
                    : NGX_HTTP_PAY_STORE_VALUE_MAX + 1;
        value.data = vbuf;

        for (r = 0; r < value.len; r++) {
            vbuf[r] = (u_char) rnd();
        }

        ttl *= 4;

        rc = run(z, ngx_http_pay_store_shm_engine.complete, &k->key, token,
                 &value, ttl, NULL);

        if (value.len > NGX_HTTP_PAY_STORE_VALUE_MAX) {
            assert_int_equal(rc, NGX_HTTP_PAY_STORE_DOWN);

        } else if (m == M_ABSENT
                   || (m == M_PROCESSING
                       && ngx_memcmp(k->token, token, TOKEN_LEN) == 0))
        {
            if (rc == NGX_HTTP_PAY_STORE_DOWN) {
                assert_true(failed_allocs > 0);

            } else {
                assert_int_equal(rc, NGX_HTTP_PAY_STORE_OK);

                k->state = M_DONE;
                k->expires = ngx_current_msec + ttl;
                k->vlen = value.len;
                ngx_memcpy(k->value, value.data, value.len);
            }

        } else {
            assert_int_equal(rc, NGX_HTTP_PAY_STORE_NOT_OWNER);
        }

    } else if (r < 73) {
        rc = run(z, ngx_http_pay_store_shm_engine.release, &k->key, token,
                 NULL, 0, NULL);

        if (m == M_PROCESSING && ngx_memcmp(k->token, token, TOKEN_LEN) == 0) {
            assert_int_equal(rc, NGX_HTTP_PAY_STORE_OK);
            k->state = M_ABSENT;

        } else {
            assert_int_equal(rc, NGX_HTTP_PAY_STORE_NOT_OWNER);
        }

    } else if (r < 81) {
        ttl *= 4;

        rc = run(z, ngx_http_pay_store_shm_engine.abandon, &k->key, token,
                 NULL, ttl, NULL);

        if (m == M_ABSENT
            || (m == M_PROCESSING
                && ngx_memcmp(k->token, token, TOKEN_LEN) == 0))
        {
            if (rc == NGX_HTTP_PAY_STORE_DOWN) {
                assert_int_equal(m, M_ABSENT);
                assert_true(failed_allocs > 0);

            } else {
                assert_int_equal(rc, NGX_HTTP_PAY_STORE_OK);

                k->state = M_UNKNOWN;
                k->expires = ngx_current_msec + ttl;
            }

        } else {
            assert_int_equal(rc, NGX_HTTP_PAY_STORE_NOT_OWNER);
        }

    } else {
        rc = run(z, ngx_http_pay_store_shm_engine.get, &k->key, NULL, NULL,
                 0, &found);

        switch (m) {

        case M_ABSENT:
            assert_int_equal(rc, NGX_HTTP_PAY_STORE_ABSENT);
            break;

        case M_PROCESSING:
        case M_DONE:
            expect_found(m, k, rc, &found);
            break;

        default:
            assert_int_equal(rc, NGX_HTTP_PAY_STORE_RETRY);
        }
    }

    full = failed_allocs;

    if (full) {
        st->full++;
    }

    if (rc == NGX_HTTP_PAY_STORE_DOWN) {
        st->down++;
    }

    live = zone_check(z, &st->max_chain);

    if (live > st->max_records) {
        st->max_records = live;
    }

    model_reconcile(z, keys, nkeys, k, full, live, st);
}


/*
 * Every key against its record: the same state, token or value, and
 * expiry; a completed or unknown record may be gone only when this
 * operation met a full zone, and not the operation's own key; zlive, the
 * zone's live records, are the model's.
 */

static void
model_reconcile(zone_t *z, mkey_t *keys, ngx_uint_t nkeys, mkey_t *opk,
    ngx_uint_t full, ngx_uint_t zlive, stats_t *st)
{
    mkey_t                         *k;
    ngx_uint_t                      i, m, live, mlive;
    ngx_http_pay_store_shm_node_t  *sn;

    live = 0;
    mlive = 0;

    for (i = 0; i < nkeys; i++) {
        k = &keys[i];
        m = model_live(k);

        sn = zone_find(z, &k->key);

        if (sn != NULL && ngx_http_pay_store_shm_expired(sn)) {
            sn = NULL;
        }

        if (sn != NULL) {
            live++;
        }

        if (m == M_ABSENT) {
            assert_null(sn);
            continue;
        }

        if (sn == NULL) {
            /* evicted: never a claim, never the key just written */
            assert_int_not_equal(m, M_PROCESSING);
            assert_ptr_not_equal(k, opk);
            assert_true(full > 0);

            k->state = M_ABSENT;
            st->evicted++;
            continue;
        }

        mlive++;

        assert_int_equal(sn->expires, k->expires);

        switch (m) {

        case M_PROCESSING:
            assert_int_equal(sn->state, NGX_HTTP_PAY_STORE_PROCESSING);
            assert_int_equal(sn->vlen, TOKEN_LEN);
            assert_memory_equal(sn->data + sn->len, k->token, TOKEN_LEN);
            break;

        case M_DONE:
            assert_int_equal(sn->state, NGX_HTTP_PAY_STORE_DONE);
            assert_int_equal(sn->vlen, k->vlen);

            if (k->vlen) {
                assert_memory_equal(sn->data + sn->len, k->value, k->vlen);
            }

            break;

        default:
            assert_int_equal(sn->state, NGX_HTTP_PAY_STORE_RETRY);
            /* a claim token's room, for the next claim to take over */
            assert_int_equal(sn->vlen, TOKEN_LEN);
        }
    }

    /* and no live record of a key the model does not have */
    assert_int_equal(live, mlive);
    assert_int_equal(zlive, mlive);
}


/* n keys of the bucket, "key<n>", each with a tag of its own */

static void
bucket_keys(zone_t *z, ngx_uint_t bucket, ngx_str_t *keys, u_char *buf,
    ngx_uint_t n)
{
    uint32_t    hash;
    ngx_str_t   key;
    ngx_uint_t  j, found, seq;

    found = 0;

    for (seq = 0; found < n; seq++) {
        key.data = buf + found * 16;
        key.len = snprintf((char *) key.data, 16, "key%lu",
                           (unsigned long) seq);

        hash = hash_of(z, &key);

        if ((hash & z->ctx.sh->mask) != bucket) {
            continue;
        }

        for (j = 0;
             j < found
             && ngx_http_pay_store_shm_tag(hash_of(z, &keys[j]))
                != ngx_http_pay_store_shm_tag(hash);
             j++)
        {
            /* void */
        }

        if (j == found) {
            keys[found++] = key;
        }
    }
}


/* the bucket holds chain[0..n), newest first: its length and tags */

static void
assert_bucket(zone_t *z, ngx_uint_t bucket, ngx_str_t **chain, ngx_uint_t n)
{
    ngx_uint_t                        i;
    ngx_http_pay_store_shm_node_t    *sn;
    ngx_http_pay_store_shm_bucket_t  *b;

    b = &z->ctx.sh->buckets[bucket];

    assert_int_equal(b->len, n);

    for (i = 0, sn = b->first; i < n; i++, sn = sn->next) {
        assert_non_null(sn);
        assert_int_equal(sn->len, chain[i]->len);
        assert_memory_equal(sn->data, chain[i]->data, sn->len);

        if (i < NGX_HTTP_PAY_STORE_SHM_TAGS) {
            assert_int_equal(b->tag[i],
                             ngx_http_pay_store_shm_tag(
                                 hash_of(z, chain[i])));
        }
    }

    assert_null(sn);

    zone_check(z, NULL);
}


/* the key SipHash is keyed with is drawn, and per zone */

static void
test_hash_key(void **state)
{
    zone_t      a, b;
    ngx_uint_t  i;

    (void) state;

    zone_init(&a, 32 * 1024);
    zone_init(&b, 32 * 1024);

    for (i = 0; i < PAY_SIPHASH_KEY_LEN && a.ctx.sh->hash_key[i] == 0; i++) {
        /* void */
    }

    assert_true(i < PAY_SIPHASH_KEY_LEN);

    assert_memory_not_equal(a.ctx.sh->hash_key, b.ctx.sh->hash_key,
                            PAY_SIPHASH_KEY_LEN);

    /* the size asked for: one bucket per 256 bytes, a power of two */
    assert_int_equal(a.ctx.sh->mask + 1, 128);

    zone_free(&a);
    zone_free(&b);
}


static void
model_seeds(size_t size, ngx_uint_t nops, ngx_uint_t expect_full)
{
    char        *env;
    stats_t      st;
    uint64_t     seeds[] = { 1, 2, 3, 20261202 };
    ngx_uint_t   i, n;

    env = getenv("PAY_SHM_SEED");

    if (env != NULL) {
        seeds[0] = strtoull(env, NULL, 10);
        n = 1;

    } else {
        n = sizeof(seeds) / sizeof(seeds[0]);
    }

    for (i = 0; i < n; i++) {
        print_message("zone %zuk, seed %llu: ", size / 1024,
                      (unsigned long long) seeds[i]);

        model_run(size, seeds[i], nops, &st);

        print_message("%lu ops, %lu met a full zone, %lu down, "
                      "%lu evicted, %lu records at most, "
                      "chains of %lu at most\n",
                      (unsigned long) st.ops, (unsigned long) st.full,
                      (unsigned long) st.down, (unsigned long) st.evicted,
                      (unsigned long) st.max_records,
                      (unsigned long) st.max_chain);

        /* the run went where it is meant to */
        assert_true(st.max_chain > NGX_HTTP_PAY_STORE_SHM_TAGS);

        if (expect_full) {
            assert_true(st.full > 0);
            assert_true(st.evicted > 0);
        }
    }
}


static void
test_model_64k(void **state)
{
    (void) state;

    model_seeds(64 * 1024, 20000, 0);
}


static void
test_model_32k(void **state)
{
    (void) state;

    model_seeds(32 * 1024, 20000, 1);
}


/*
 * Chains of 4 and 5 records in one bucket: each of the first four
 * deleted (released, or freed by a lookup once expired), and the length
 * and tags after.
 */

static void
test_chain_delete(void **state)
{
    u_char      buf[16 * 5], tokens[5][TOKEN_LEN];
    zone_t      z;
    ngx_str_t   keys[5], *chain[5];
    ngx_uint_t  n, pos, i, j, expire;

    (void) state;

    for (expire = 0; expire < 2; expire++) {
        for (n = 4; n <= 5; n++) {
            for (pos = 0; pos < n; pos++) {
                zone_init(&z, 32 * 1024);
                bucket_keys(&z, 5, keys, buf, n);

                /* the last claimed heads the chain */

                for (i = 0; i < n; i++) {
                    make_token(tokens[i]);

                    assert_int_equal(
                        run(&z, ngx_http_pay_store_shm_engine.claim,
                            &keys[i], tokens[i], NULL,
                            (expire && i == n - 1 - pos) ? 10 : 100000,
                            NULL),
                        NGX_HTTP_PAY_STORE_NEW);

                    chain[n - 1 - i] = &keys[i];
                }

                assert_bucket(&z, 5, chain, n);

                i = n - 1 - pos;

                if (expire) {
                    ngx_current_msec += 10;

                    assert_int_equal(
                        run(&z, ngx_http_pay_store_shm_engine.get, &keys[i],
                            NULL, NULL, 0, NULL),
                        NGX_HTTP_PAY_STORE_ABSENT);

                } else {
                    assert_int_equal(
                        run(&z, ngx_http_pay_store_shm_engine.release,
                            &keys[i], tokens[i], NULL, 0, NULL),
                        NGX_HTTP_PAY_STORE_OK);
                }

                for (j = pos; j < n - 1; j++) {
                    chain[j] = chain[j + 1];
                }

                assert_bucket(&z, 5, chain, n - 1);

                for (j = 0; j < n; j++) {
                    assert_int_equal(
                        run(&z, ngx_http_pay_store_shm_engine.get, &keys[j],
                            NULL, NULL, 0, NULL),
                        j == i ? NGX_HTTP_PAY_STORE_ABSENT
                               : NGX_HTTP_PAY_STORE_PROCESSING);
                }

                /* and one more in: a new head, the tags shift */

                make_token(tokens[i]);

                assert_int_equal(
                    run(&z, ngx_http_pay_store_shm_engine.claim, &keys[i],
                        tokens[i], NULL, 100000, NULL),
                    NGX_HTTP_PAY_STORE_NEW);

                for (j = n - 1; j > 0; j--) {
                    chain[j] = chain[j - 1];
                }

                chain[0] = &keys[i];

                assert_bucket(&z, 5, chain, n);

                zone_free(&z);
                ngx_stub_reset();
            }
        }
    }
}


/*
 * Chains of 1 to 3 records, the oldest with the tag of an absent key of
 * the same bucket (the same low 7 and high 16 bits of the hash, found by
 * brute force): the absent key is still absent, and can be claimed.
 */

static void
test_tag_collision(void **state)
{
    u_char                       buf[16 * 3], abuf[24], tokens[4][TOKEN_LEN];
    zone_t                       z;
    uint32_t                     hash, want;
    ngx_str_t                    keys[3], absent, found, *chain[4];
    ngx_uint_t                   n, i, seq;

    (void) state;

    zone_init(&z, 32 * 1024);
    bucket_keys(&z, 9, keys, buf, 3);

    /* a key with the bucket and tag of keys[0] */

    want = hash_of(&z, &keys[0]);
    absent.data = abuf;

    for (seq = 0; /* void */; seq++) {
        absent.len = snprintf((char *) abuf, sizeof(abuf), "absent%lu",
                              (unsigned long) seq);
        hash = hash_of(&z, &absent);

        /* the tag alone: one in 512 such keys has the whole hash too */

        if ((hash & z.ctx.sh->mask) == (want & z.ctx.sh->mask)
            && ngx_http_pay_store_shm_tag(hash)
               == ngx_http_pay_store_shm_tag(want)
            && hash != want)
        {
            break;
        }
    }

    for (n = 1; n <= 3; n++) {

        /* keys[0] oldest, so last in the chain */

        for (i = 0; i < n; i++) {
            make_token(tokens[i]);

            assert_int_equal(
                run(&z, ngx_http_pay_store_shm_engine.claim, &keys[i],
                    tokens[i], NULL, 100000, NULL),
                NGX_HTTP_PAY_STORE_NEW);

            chain[n - 1 - i] = &keys[i];
        }

        assert_int_equal(
            run(&z, ngx_http_pay_store_shm_engine.get, &absent, NULL, NULL,
                0, NULL),
            NGX_HTTP_PAY_STORE_ABSENT);

        assert_int_equal(
            run(&z, ngx_http_pay_store_shm_engine.get, &keys[0], NULL, NULL,
                0, &found),
            NGX_HTTP_PAY_STORE_PROCESSING);
        assert_int_equal(found.len, TOKEN_LEN);
        assert_memory_equal(found.data, tokens[0], TOKEN_LEN);

        assert_bucket(&z, 9, chain, n);

        /* claimed: the bucket holds one tag twice */

        make_token(tokens[3]);

        assert_int_equal(
            run(&z, ngx_http_pay_store_shm_engine.claim, &absent, tokens[3],
                NULL, 100000, NULL),
            NGX_HTTP_PAY_STORE_NEW);

        for (i = n; i > 0; i--) {
            chain[i] = chain[i - 1];
        }

        chain[0] = &absent;

        assert_bucket(&z, 9, chain, n + 1);

        for (i = 0; i < n; i++) {
            assert_int_equal(
                run(&z, ngx_http_pay_store_shm_engine.get, &keys[i], NULL,
                    NULL, 0, &found),
                NGX_HTTP_PAY_STORE_PROCESSING);
            assert_memory_equal(found.data, tokens[i], TOKEN_LEN);
        }

        /* released, the older one of the tag is still found */

        assert_int_equal(
            run(&z, ngx_http_pay_store_shm_engine.release, &absent,
                tokens[3], NULL, 0, NULL),
            NGX_HTTP_PAY_STORE_OK);

        assert_bucket(&z, 9, chain + 1, n);

        assert_int_equal(
            run(&z, ngx_http_pay_store_shm_engine.get, &keys[0], NULL, NULL,
                0, NULL),
            NGX_HTTP_PAY_STORE_PROCESSING);

        /* the key of the shared tag goes first, then the others */

        for (i = 0; i < n; i++) {
            assert_int_equal(
                run(&z, ngx_http_pay_store_shm_engine.release, &keys[i],
                    tokens[i], NULL, 0, NULL),
                NGX_HTTP_PAY_STORE_OK);

            assert_int_equal(
                run(&z, ngx_http_pay_store_shm_engine.get, &absent, NULL,
                    NULL, 0, NULL),
                NGX_HTTP_PAY_STORE_ABSENT);

            assert_bucket(&z, 9, chain + 1, n - 1 - i);
        }
    }

    zone_free(&z);
}


/*
 * A zone kept across a reload (the old context passed in) or found made
 * (shm.exists): its records, and its hash key, live on.
 */

static void
test_zone_reuse(void **state)
{
    u_char                        token[TOKEN_LEN];
    u_char                        key_copy[PAY_SIPHASH_KEY_LEN];
    zone_t                        z;
    ngx_str_t                     key, found;
    ngx_shm_zone_t                shm_zone;
    ngx_http_pay_store_shm_ctx_t  ctx, *octx;

    (void) state;

    zone_init(&z, 64 * 1024);
    ngx_memcpy(key_copy, z.ctx.sh->hash_key, PAY_SIPHASH_KEY_LEN);

    ngx_str_set(&key, "evt_reused");
    make_token(token);

    assert_int_equal(run(&z, ngx_http_pay_store_shm_engine.claim, &key,
                         token, NULL, 100000, NULL),
                     NGX_HTTP_PAY_STORE_NEW);

    /* a reload, then a new master finding the zone */

    for (octx = &z.ctx; /* void */; octx = NULL) {
        ngx_memzero(&ctx, sizeof(ngx_http_pay_store_shm_ctx_t));
        ctx.store = &z.store;

        shm_zone = z.shm_zone;
        shm_zone.shm.exists = (octx == NULL);
        shm_zone.data = &ctx;

        assert_int_equal(ngx_http_pay_store_shm_init_zone(&shm_zone, octx),
                         NGX_OK);
        assert_ptr_equal(ctx.sh, z.ctx.sh);
        assert_ptr_equal(ctx.shpool, z.ctx.shpool);
        assert_memory_equal(ctx.sh->hash_key, key_copy,
                            PAY_SIPHASH_KEY_LEN);

        z.store.data = &ctx;

        assert_int_equal(run(&z, ngx_http_pay_store_shm_engine.get, &key,
                             NULL, NULL, 0, &found),
                         NGX_HTTP_PAY_STORE_PROCESSING);
        assert_memory_equal(found.data, token, TOKEN_LEN);

        z.store.data = &z.ctx;

        if (octx == NULL) {
            break;
        }
    }

    zone_check(&z, NULL);
    zone_free(&z);
}


/*
 * An absent key whose tag none of a chain of 0 to 3 records has is
 * answered from the bucket alone: with the chain pointed at a page that
 * cannot be read, the lookup does not fault.
 */

static void
test_tag_no_read(void **state)
{
    u_char                           buf[16 * 4], *page;
    zone_t                           z;
    ngx_str_t                        keys[4];
    ngx_uint_t                       n, i;
    ngx_http_pay_store_shm_node_t   *first;
    ngx_http_pay_store_shm_bucket_t *b;

    (void) state;

    page = mmap(NULL, ngx_pagesize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
                -1, 0);
    assert_true(page != MAP_FAILED);

    for (n = 0; n <= 3; n++) {
        zone_init(&z, 32 * 1024);

        /* n records, and a key of the bucket with none of their tags */

        bucket_keys(&z, 17, keys, buf, n + 1);

        for (i = 0; i < n; i++) {
            assert_int_equal(
                run(&z, ngx_http_pay_store_shm_engine.claim, &keys[i],
                    (u_char *) "0123456789abcdef0123456789abcdef", NULL,
                    100000, NULL),
                NGX_HTTP_PAY_STORE_NEW);
        }

        b = &z.ctx.sh->buckets[17];
        assert_int_equal(b->len, n);

        first = b->first;
        b->first = (ngx_http_pay_store_shm_node_t *) page;

        assert_int_equal(
            run(&z, ngx_http_pay_store_shm_engine.get, &keys[n], NULL, NULL,
                0, NULL),
            NGX_HTTP_PAY_STORE_ABSENT);

        b->first = first;

        zone_check(&z, NULL);

        zone_free(&z);
        ngx_stub_reset();
    }

    munmap(page, ngx_pagesize);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_hash_key, reset, reset),
        cmocka_unit_test_setup_teardown(test_model_64k, reset, reset),
        cmocka_unit_test_setup_teardown(test_model_32k, reset, reset),
        cmocka_unit_test_setup_teardown(test_chain_delete, reset, reset),
        cmocka_unit_test_setup_teardown(test_tag_collision, reset, reset),
        cmocka_unit_test_setup_teardown(test_tag_no_read, reset, reset),
        cmocka_unit_test_setup_teardown(test_zone_reuse, reset, reset),
    };

    return cmocka_run_group_tests_name("ngx_store_shm", tests,
                                       group_setup, NULL);
}
