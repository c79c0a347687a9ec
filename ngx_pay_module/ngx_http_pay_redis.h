
/*
 * Copyright (C) ngx_pay authors
 *
 * One persistent hiredis connection per worker (and per Redis store),
 * driven by nginx's event loop.  The store engine issues commands on it;
 * this layer owns connecting, AUTH and SELECT, reconnecting with backoff
 * and tearing the connection down.
 */


#ifndef _NGX_HTTP_PAY_REDIS_H_INCLUDED_
#define _NGX_HTTP_PAY_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


typedef struct ngx_http_pay_redis_s  ngx_http_pay_redis_t;

/* a new connection is up: the engine re-sends what it still owes */
typedef void (*ngx_http_pay_redis_ready_pt)(ngx_http_pay_redis_t *rd);


struct ngx_http_pay_redis_s {
    /* configuration (set while parsing, shared by the workers) */
    ngx_str_t                     name;       /* the store's, for logs */
    ngx_str_t                     addr;       /* "127.0.0.1:6379", for logs */
    u_char                       *host;       /* numeric IP or socket path */
    int                           port;       /* 0: host is a unix socket */
    ngx_str_t                     password;   /* empty: no AUTH */
    ngx_uint_t                    db;         /* 0: no SELECT */
    ngx_msec_t                    timeout;    /* connect and each command */

    ngx_http_pay_redis_ready_pt   ready;
    void                         *data;       /* for ready */

    /* per worker */
    redisAsyncContext            *ac;         /* NULL: disconnected */
    ngx_connection_t             *c;
    ngx_log_t                    *log;
    const char                   *reason;     /* why we dropped it */

    ngx_event_t                   reconnect;
    ngx_event_t                   connect_timer;
    ngx_event_t                   abort;      /* posted: free the context */

    ngx_msec_t                    backoff;
    ngx_uint_t                    handshake;  /* AUTH/SELECT replies due */

    unsigned                      inited:1;
    unsigned                      connected:1;
    unsigned                      failed:1;   /* AUTH or SELECT refused */
    unsigned                      entered:1;  /* in our event handler */
    unsigned                      deleted:1;  /* cleanup ran meanwhile */
    unsigned                      exiting:1;
};


/*
 * Starts connecting (in a worker): NGX_OK even when Redis is down, the
 * reconnect timer then keeps trying.
 */
ngx_int_t ngx_http_pay_redis_init(ngx_http_pay_redis_t *rd,
    ngx_cycle_t *cycle);

/*
 * Frees the context: every pending command's callback runs with a NULL
 * reply before this returns.  No reconnect follows.
 */
void ngx_http_pay_redis_done(ngx_http_pay_redis_t *rd);

/*
 * Whether a command may be sent now: a context exists (connecting or
 * connected) and is neither refused by Redis nor being torn down.
 */
ngx_uint_t ngx_http_pay_redis_ready(ngx_http_pay_redis_t *rd);

/*
 * Queues a command (binary-safe argv).  NGX_OK: fn(ac, reply, data) will
 * run exactly once, with reply NULL if the connection is lost first;
 * NGX_DECLINED: not connected, fn will not run.  Commands queued while
 * connecting follow AUTH and SELECT on the wire.
 */
ngx_int_t ngx_http_pay_redis_command(ngx_http_pay_redis_t *rd,
    redisCallbackFn *fn, void *data, int argc, const char **argv,
    const size_t *argvlen);

/*
 * What a command callback should use: the reply, or NULL when there is
 * none (connection lost) or the connection's AUTH/SELECT failed, so that
 * the reply may come from the wrong database or user.
 */
redisReply *ngx_http_pay_redis_reply(ngx_http_pay_redis_t *rd, void *reply);

/*
 * Drops the connection from outside hiredis (posted): used after a command
 * timed out, which leaves the connection's state unknown.  Pending
 * commands get NULL replies; the reconnect timer takes over.
 */
void ngx_http_pay_redis_abort(ngx_http_pay_redis_t *rd, const char *reason);


#endif /* _NGX_HTTP_PAY_REDIS_H_INCLUDED_ */
