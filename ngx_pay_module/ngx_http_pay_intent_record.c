
/*
 * Copyright (C) ngx_pay authors
 *
 * An intent's store records: the idempotency of payment intents.
 *
 * Two store records per key (SHA-256 of server, scope, location and key):
 *
 *   "intent:lock:<hex>"     claimed for pay_idempotency lock= while a
 *                           request works on the key; completed with the
 *                           final answer (status, type, body) for ttl=,
 *                           which is what a retry replays;
 *   "intent:created:<hex>"  the normalized intent, saved before the app
 *                           is called: a retry after an app failure
 *                           resumes with it instead of creating another.
 *
 * The provider's own idempotency value is derived from the store key, so
 * even a retry after a crash between the provider's answer and the save
 * gets the same intent back from the provider.
 *
 * This file makes the keys, runs every store operation of the steps
 * (ngx_http_pay_intent_store()) and acts on the answers: CLAIMED (a
 * replay, a conflict), LOOKED_UP (a new key, or a resumed intent),
 * SAVE_CLAIMED and SAVED.  The provider's value is made in
 * ngx_http_pay_intent_attempt(), and the lock's completion with the
 * final answer in ngx_http_pay_intent_finish().
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_intent.h"


static ngx_int_t ngx_http_pay_intent_replay(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_intent_t *in,
    pay_idempotency_record_t *rec, pay_intent_result_t *result);
static void ngx_http_pay_intent_stored(ngx_http_pay_store_op_t *op);


/*
 * The three keys and the lock's token; the fingerprint of the body and
 * of pay_intent_set's values: the final request.
 */

ngx_int_t
ngx_http_pay_intent_keys(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    u_char                    *p;
    ngx_str_t                  scope;
    ngx_http_core_srv_conf_t  *cscf;

    ngx_str_null(&scope);

    if (in->plcf->idem_scope != NULL
        && ngx_http_complex_value(r, in->plcf->idem_scope, &scope) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* two server{} blocks with one location path are two key spaces */
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);

    if (pay_idempotency_store_key((const char *) cscf->server_name.data,
                                  cscf->server_name.len,
                                  (const char *) scope.data, scope.len,
                                  (const char *)
                                      in->plcf->intent_location.data,
                                  in->plcf->intent_location.len,
                                  in->key, in->key_len, in->store_key)
        != 0
        || pay_idempotency_fingerprint_parts(ctx->body.data, ctx->body.len,
                                             in->set_parts, in->nset_parts,
                                             in->fingerprint)
           != 0)
    {
        return NGX_ERROR;
    }

    in->lock_key.len = sizeof("intent:lock:") - 1 + PAY_IDEMPOTENCY_HASH_LEN;
    in->created_key.len = sizeof("intent:created:") - 1
                          + PAY_IDEMPOTENCY_HASH_LEN;

    p = ngx_pnalloc(r->pool, in->lock_key.len + in->created_key.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    in->lock_key.data = p;
    p = ngx_sprintf(p, "intent:lock:%s", in->store_key);
    in->created_key.data = p;
    (void) ngx_sprintf(p, "intent:created:%s", in->store_key);

    return ngx_http_pay_store_token(r->pool, &in->lock_token);
}


ngx_int_t
ngx_http_pay_intent_claimed(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    pay_intent_result_t        result;
    pay_idempotency_record_t   rec;

    ngx_http_pay_store_outage(in->store, in->op.result);

    switch (in->op.result) {

    case NGX_HTTP_PAY_STORE_NEW:
        in->locked = 1;
        in->step = NGX_HTTP_PAY_INTENT_LOOKED_UP;

        return ngx_http_pay_intent_store(r, in, in->store->engine->get,
                                         &in->created_key, NULL, NULL, 0);

    case NGX_HTTP_PAY_STORE_DONE:

        /*
         * checked as strictly as the answer was when it was fresh: a
         * record altered in the store must not reach a header or the
         * client, so it is a store failure
         */
        if (pay_idempotency_record_decode(in->op.found.data,
                                          in->op.found.len, &rec)
            != 0
            || rec.state != PAY_IDEMPOTENCY_COMPLETED
            || (rec.intent_len
                && pay_intent_result_parse(rec.intent, rec.intent_len,
                                           &result)
                   != 0))
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "pay: intent record \"%V\" in \"%V\" is not one "
                          "of ours", &in->lock_key, &in->store->name);
            return ngx_http_pay_reject_retry(r, ctx,
                                             PAY_ERR_STORE_UNAVAILABLE,
                                             "the stored answer cannot be "
                                             "read",
                                             NGX_HTTP_PAY_INTENT_RETRY_AFTER);
        }

        return ngx_http_pay_intent_replay(r, ctx, in, &rec, &result);

    case NGX_HTTP_PAY_STORE_PROCESSING:
        in->idempotency = NGX_HTTP_PAY_IDEM_CONFLICT;

        return ngx_http_pay_reject_retry(r, ctx,
                                         PAY_ERR_IDEMPOTENCY_CONFLICT,
                                         "a request with this "
                                         "Idempotency-Key is being "
                                         "processed",
                                         (time_t) (plcf->idem_lock + 999)
                                         / 1000);

    default: /* NGX_HTTP_PAY_STORE_DOWN */
        return ngx_http_pay_intent_unavailable(r, ctx, in,
                                               PAY_ERR_STORE_UNAVAILABLE,
                                               "the idempotency store is "
                                               "unavailable");
    }
}


/* a completed key: the same body gets the same answer again */

static ngx_int_t
ngx_http_pay_intent_replay(ngx_http_request_t *r, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in, pay_idempotency_record_t *rec,
    pay_intent_result_t *result)
{
    ngx_str_t  type, body;

    if (ngx_strcmp(rec->fingerprint, in->fingerprint) != 0) {
        in->idempotency = NGX_HTTP_PAY_IDEM_MISMATCH;
        return ngx_http_pay_reject(r, ctx, PAY_ERR_IDEMPOTENCY_KEY_REUSED,
                                   "this Idempotency-Key was used with "
                                   "another body");
    }

    in->idempotency = NGX_HTTP_PAY_IDEM_REPLAYED;

    /* read when the record was checked, and disclosed only now */
    if (rec->intent_len) {
        in->result = *result;
        in->result_json.data = (u_char *) rec->intent;
        in->result_json.len = rec->intent_len;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "pay intent replayed: \"%V\", status %d", &in->lock_key,
                   rec->status);

    type.data = (u_char *) rec->content_type;
    type.len = rec->content_type_len;
    body.data = (u_char *) rec->body;
    body.len = rec->body_len;

    return ngx_http_pay_answer_as(r, ctx, rec->status, &type, &body, 1);
}


ngx_int_t
ngx_http_pay_intent_looked_up(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    pay_intent_result_t        result;
    pay_idempotency_record_t   rec;

    ngx_http_pay_store_outage(in->store, in->op.result);

    switch (in->op.result) {

    case NGX_HTTP_PAY_STORE_ABSENT:
        in->idempotency = NGX_HTTP_PAY_IDEM_NEW;
        in->step = NGX_HTTP_PAY_INTENT_ATTEMPT;
        return NGX_DECLINED;

    case NGX_HTTP_PAY_STORE_DONE:
        if (pay_idempotency_record_decode(in->op.found.data,
                                          in->op.found.len, &rec)
            != 0
            || rec.state != PAY_IDEMPOTENCY_CREATED
            || pay_intent_result_parse(rec.intent, rec.intent_len, &result)
               != 0)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "pay: intent record \"%V\" in \"%V\" is not one "
                          "of ours", &in->created_key, &in->store->name);
            return ngx_http_pay_intent_unavailable(r, ctx, in,
                                                   PAY_ERR_STORE_UNAVAILABLE,
                                                   "the stored intent cannot "
                                                   "be read");
        }

        if (ngx_strcmp(rec.fingerprint, in->fingerprint) != 0) {
            in->idempotency = NGX_HTTP_PAY_IDEM_MISMATCH;
            ngx_http_pay_intent_release(in, r->connection->log);
            return ngx_http_pay_reject(r, ctx, PAY_ERR_IDEMPOTENCY_KEY_REUSED,
                                       "this Idempotency-Key was used with "
                                       "another body");
        }

        /*
         * the intent exists: the app failed last time, tell it again (and
         * only now, not to a request with another body)
         */

        in->idempotency = NGX_HTTP_PAY_IDEM_RESUMED;
        in->result = result;
        in->result_json.data = (u_char *) rec.intent;
        in->result_json.len = rec.intent_len;
        in->step = NGX_HTTP_PAY_INTENT_FORWARD;

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "pay: intent %s \"%s\" resumed for a retry",
                      pay_intent_provider_name(in->result.provider),
                      in->result.id);

        return NGX_DECLINED;

    default: /* DOWN, or PROCESSING: a save that never finished */
        return ngx_http_pay_intent_unavailable(r, ctx, in,
                                               PAY_ERR_STORE_UNAVAILABLE,
                                               "the idempotency store is "
                                               "unavailable");
    }
}


/* the created record: claimed, then completed, before the app is told */

ngx_int_t
ngx_http_pay_intent_save(ngx_http_request_t *r,
    ngx_http_pay_loc_conf_t *plcf, ngx_http_pay_ctx_t *ctx,
    ngx_http_pay_intent_t *in)
{
    u_char                    *p;
    size_t                     len;
    ngx_str_t                  value;
    pay_idempotency_record_t   rec;

    if (in->step == NGX_HTTP_PAY_INTENT_SAVED) {
        if (in->op.result != NGX_HTTP_PAY_STORE_OK) {
            goto failed;
        }

        in->step = NGX_HTTP_PAY_INTENT_FORWARD;
        return NGX_DECLINED;
    }

    if (in->op.result != NGX_HTTP_PAY_STORE_NEW) {
        goto failed;
    }

    ngx_memzero(&rec, sizeof(pay_idempotency_record_t));

    rec.state = PAY_IDEMPOTENCY_CREATED;
    ngx_memcpy(rec.fingerprint, in->fingerprint, sizeof(rec.fingerprint));
    rec.intent = in->result_json.data;
    rec.intent_len = in->result_json.len;

    len = pay_idempotency_record_size(&rec);
    p = (len == 0) ? NULL : ngx_pnalloc(r->pool, len);

    if (p == NULL || pay_idempotency_record_encode(&rec, p, len) != len) {
        goto failed;
    }

    value.data = p;
    value.len = len;

    in->step = NGX_HTTP_PAY_INTENT_SAVED;

    return ngx_http_pay_intent_store(r, in, in->store->engine->complete,
                                     &in->created_key, &in->created_token,
                                     &value, in->ttl);

failed:

    /*
     * The intent exists at the provider but is not saved: the retry makes
     * the same call with the same provider key, and gets it back.
     */

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "pay: intent %s \"%s\" could not be saved in \"%V\"",
                  pay_intent_provider_name(in->provider), in->result.id,
                  &in->store->name);

    return ngx_http_pay_intent_unavailable(r, ctx, in,
                                           PAY_ERR_STORE_UNAVAILABLE,
                                           "the intent could not be saved");
}


/*
 * One store operation; the answer is in in->op.result either now
 * (NGX_DECLINED: go on at in->step) or when the engine calls back
 * (NGX_AGAIN: the phases run again then).
 */

ngx_int_t
ngx_http_pay_intent_store(ngx_http_request_t *r, ngx_http_pay_intent_t *in,
    ngx_http_pay_store_op_pt op, ngx_str_t *key, ngx_str_t *token,
    ngx_str_t *value, ngx_msec_t ttl)
{
    ngx_int_t                 rc;
    ngx_http_pay_store_op_t  *o;

    o = &in->op;

    ngx_memzero(o, sizeof(ngx_http_pay_store_op_t));

    o->key = *key;

    if (token != NULL) {
        o->token = *token;
    }

    if (value != NULL) {
        o->value = *value;
    }

    o->ttl = ttl;
    o->handler = ngx_http_pay_intent_stored;
    o->data = r;
    o->pool = r->pool;
    o->log = r->connection->log;

    rc = op(in->store, o);

    if (rc == NGX_AGAIN) {
        return NGX_AGAIN;
    }

    if (rc != NGX_OK) {
        o->result = NGX_HTTP_PAY_STORE_DOWN;
    }

    o->handler = NULL;

    return NGX_DECLINED;
}


/* a store's later answer: posted by the engine, not from its callback */

static void
ngx_http_pay_intent_stored(ngx_http_pay_store_op_t *op)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_http_log_ctx_t  *lctx;

    r = op->data;
    c = r->connection;

    lctx = c->log->data;
    lctx->current_request = r;

    op->handler = NULL;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "pay intent store answered: %s",
                   ngx_http_pay_store_result_name(op->result));

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/* gives the lock back now (fire and forget): the retry may go through */

void
ngx_http_pay_intent_release(ngx_http_pay_intent_t *in, ngx_log_t *log)
{
    ngx_http_pay_store_op_t  op;

    if (!in->locked) {
        return;
    }

    in->locked = 0;

    ngx_memzero(&op, sizeof(ngx_http_pay_store_op_t));

    op.key = in->lock_key;
    op.token = in->lock_token;
    op.log = log;

    (void) in->store->engine->release(in->store, &op);
}


ngx_int_t
ngx_http_pay_intent_unavailable(ngx_http_request_t *r,
    ngx_http_pay_ctx_t *ctx, ngx_http_pay_intent_t *in, pay_rc_e rc,
    const char *detail)
{
    ngx_http_pay_intent_release(in, r->connection->log);

    return ngx_http_pay_reject_retry(r, ctx, rc, detail,
                                     NGX_HTTP_PAY_INTENT_RETRY_AFTER);
}
