
/*
 * Copyright (C) ngx_pay authors
 *
 * Sentinel (pay_store ... sentinel=H:P[,H:P...] master=NAME): before each
 * connection to Redis, the sentinels are asked, one after the other until
 * one answers, for the master's address (SENTINEL get-master-addr-by-name
 * NAME), on a small connection of its own: the store's connection, its
 * output buffer and its pending commands are the master's only.  The
 * master's connection then checks ROLE (ngx_http_pay_redis_connect.c): a
 * replica is never written to.  A lost connection or a -READONLY reply
 * (ngx_http_pay_redis.c) starts over, asking the sentinels again, so a
 * failover is followed.
 *
 * What it finds is handed to rd->sentinel_handler (NGX_OK: the address
 * is in rd->resolved): this file calls nothing of the connection's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_redis.h"
#include "pay_resp.h"


/* what a sentinel may send on one connection: its answers are tiny */
#define NGX_HTTP_PAY_REDIS_SENTINEL_REPLY_MAX  (64 * 1024)


static void ngx_http_pay_redis_sentinel_next(ngx_http_pay_redis_t *rd,
    const char *reason);
static void ngx_http_pay_redis_sentinel_write(ngx_event_t *wev);
static void ngx_http_pay_redis_sentinel_read(ngx_event_t *rev);
static ngx_int_t ngx_http_pay_redis_sentinel_answer(ngx_http_pay_redis_t *rd,
    redisReply *r);
static void ngx_http_pay_redis_sentinel_timeout(ngx_event_t *ev);
static void ngx_http_pay_redis_sentinel_close(ngx_http_pay_redis_t *rd);


/* starts asking, from the sentinel that answered last */

void
ngx_http_pay_redis_sentinel_ask(ngx_http_pay_redis_t *rd)
{
    rd->sentinel_tries = 0;
    ngx_http_pay_redis_sentinel_next(rd, NULL);
}


void
ngx_http_pay_redis_sentinel_cancel(ngx_http_pay_redis_t *rd)
{
    if (rd->sentinel_reader != NULL) {
        /*
         * a question cut short (the connection's own timeout=): the next
         * attempt starts with the next sentinel, not a silent one again
         */
        rd->sentinel++;
    }

    ngx_http_pay_redis_sentinel_close(rd);
}


static void
ngx_http_pay_redis_sentinel_next(ngx_http_pay_redis_t *rd,
    const char *reason)
{
    size_t                  len[3], size;
    ngx_int_t               rc;
    ngx_addr_t             *a;
    const char             *argv[3];
    ngx_connection_t       *c;
    ngx_peer_connection_t  *pc;

    ngx_http_pay_redis_sentinel_close(rd);

    if (reason != NULL) {
        a = &rd->sentinels[rd->sentinel % rd->nsentinels];
        ngx_log_error(NGX_LOG_INFO, rd->log, 0,
                      "pay_store \"%V\": sentinel %V: %s",
                      &rd->name, &a->name, reason);
        rd->sentinel++;
    }

    if (rd->sentinel_tries++ >= rd->nsentinels) {
        rd->sentinel_handler(rd, NGX_ERROR,
                             "no sentinel gave the master's address");
        return;
    }

    a = &rd->sentinels[rd->sentinel % rd->nsentinels];

    /* the question, formatted once per attempt */

    rd->sentinel_out.len = 0;

    if (rd->sentinel_password.len) {
        argv[0] = "AUTH";
        len[0] = 4;
        argv[1] = (const char *) rd->sentinel_password.data;
        len[1] = rd->sentinel_password.len;

        /* nginx -t keeps both within the buffer (at most 490 bytes) */
        size = pay_resp_command_len(2, len);
        if (size == 0 || size > 512) {
            rd->sentinel_handler(rd, NGX_ERROR,
                                 "sentinel_password= is too long");
            return;
        }

        pay_resp_command((char *) rd->sentinel_buf, 2, argv, len);
        rd->sentinel_out.len = size;
    }

    argv[0] = "SENTINEL";
    len[0] = 8;
    argv[1] = "get-master-addr-by-name";
    len[1] = sizeof("get-master-addr-by-name") - 1;
    argv[2] = (const char *) rd->master.data;
    len[2] = rd->master.len;

    size = pay_resp_command_len(3, len);
    if (size == 0
        || size > sizeof(rd->sentinel_buf) - rd->sentinel_out.len)
    {
        /* the AUTH already written holds the password */
        ngx_explicit_memzero(rd->sentinel_buf, sizeof(rd->sentinel_buf));
        rd->sentinel_handler(rd, NGX_ERROR, "master= is too long");
        return;
    }

    pay_resp_command((char *) rd->sentinel_buf + rd->sentinel_out.len, 3,
                     argv, len);
    rd->sentinel_out.len += size;
    rd->sentinel_out.data = rd->sentinel_buf;

    rd->sentinel_replies = rd->sentinel_password.len ? 2 : 1;

    rd->sentinel_fed = 0;
    rd->sentinel_reader = ngx_http_pay_redis_reader(&rd->sentinel_declared);
    if (rd->sentinel_reader == NULL) {
        rd->sentinel_handler(rd, NGX_ERROR, "no memory");
        return;
    }

    pc = &rd->spc;
    ngx_memzero(pc, sizeof(ngx_peer_connection_t));

    pc->sockaddr = a->sockaddr;
    pc->socklen = a->socklen;
    pc->name = &a->name;
    pc->get = ngx_event_get_peer;
    pc->log = &rd->connect_log;    /* its reason is ours to say */
    pc->log_error = NGX_ERROR_INFO;
    pc->tries = 1;

    rc = ngx_event_connect_peer(pc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        pc->connection = NULL;
        ngx_http_pay_redis_sentinel_next(rd, "cannot connect");
        return;
    }

    c = pc->connection;
    c->data = rd;
    c->log = rd->log;
    c->read->log = rd->log;
    c->write->log = rd->log;
    c->read->handler = ngx_http_pay_redis_sentinel_read;
    c->write->handler = ngx_http_pay_redis_sentinel_write;

    rd->sc = c;

    rd->sentinel_timer.handler = ngx_http_pay_redis_sentinel_timeout;
    rd->sentinel_timer.data = rd;
    rd->sentinel_timer.log = rd->log;
    rd->sentinel_timer.cancelable = 1;

    ngx_add_timer(&rd->sentinel_timer, rd->timeout);

    if (rc == NGX_OK) {
        ngx_post_event(c->write, &ngx_posted_events);
    }
}


static void
ngx_http_pay_redis_sentinel_write(ngx_event_t *wev)
{
    int                    err;
    ssize_t                n;
    socklen_t              len;
    ngx_connection_t      *c;
    ngx_http_pay_redis_t  *rd;

    c = wev->data;
    rd = c->data;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1
        || err)
    {
        ngx_http_pay_redis_sentinel_next(rd, "cannot connect");
        return;
    }

    while (rd->sentinel_out.len) {
        n = c->send(c, rd->sentinel_out.data, rd->sentinel_out.len);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            ngx_http_pay_redis_sentinel_next(rd, "write failed");
            return;
        }

        rd->sentinel_out.data += n;
        rd->sentinel_out.len -= n;
    }

    if (rd->sentinel_out.len == 0) {
        /* sent: AUTH's password does not stay in the buffer */
        ngx_explicit_memzero(rd->sentinel_buf, sizeof(rd->sentinel_buf));
    }

    if (ngx_handle_write_event(wev, 0) != NGX_OK) {
        ngx_http_pay_redis_sentinel_next(rd, "cannot add a write event");
    }
}


static void
ngx_http_pay_redis_sentinel_read(ngx_event_t *rev)
{
    void                  *reply;
    ssize_t                n;
    ngx_int_t              rc;
    ngx_connection_t      *c;
    ngx_http_pay_redis_t  *rd;
    u_char                 buf[1024];

    c = rev->data;
    rd = c->data;

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_pay_redis_sentinel_next(rd, "closed before answering");
            return;
        }

        if (redisReaderFeed(rd->sentinel_reader, (const char *) buf, n)
            != REDIS_OK)
        {
            ngx_http_pay_redis_sentinel_next(rd, "no memory");
            return;
        }

        /* an address and an AUTH's +OK: a few dozen bytes, never more */
        rd->sentinel_fed += n;

        if (rd->sentinel_fed > NGX_HTTP_PAY_REDIS_SENTINEL_REPLY_MAX) {
            ngx_http_pay_redis_sentinel_next(rd, "an answer over 64 KiB");
            return;
        }

        for ( ;; ) {
            reply = NULL;

            if (redisReaderGetReply(rd->sentinel_reader, &reply)
                != REDIS_OK)
            {
                ngx_http_pay_redis_sentinel_next(rd,
                    ngx_http_pay_redis_reader_refused(rd->sentinel_declared)
                    ? "an answer of over 1024 array elements"
                    : "protocol error");
                return;
            }

            if (reply == NULL) {
                break;
            }

            rc = ngx_http_pay_redis_sentinel_answer(rd, reply);
            freeReplyObject(reply);

            if (rc == NGX_DECLINED) {
                /* AUTH answered OK: the question's answer comes next */
                continue;
            }

            if (rc == NGX_OK) {
                /* the master's address is in rd->resolved */
                ngx_http_pay_redis_sentinel_close(rd);
                rd->sentinel_handler(rd, NGX_OK, NULL);
                return;
            }

            ngx_http_pay_redis_sentinel_next(rd, (const char *) rd->errstr);
            return;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_pay_redis_sentinel_next(rd, "cannot add a read event");
    }
}


/* NGX_OK: the address; NGX_DECLINED: AUTH's OK; NGX_ERROR: rd->errstr */

static ngx_int_t
ngx_http_pay_redis_sentinel_answer(ngx_http_pay_redis_t *rd, redisReply *r)
{
    ngx_int_t   port;
    in_addr_t   addr;
    redisReply *ip, *p;

    if (--rd->sentinel_replies > 0) {
        if (r->type == REDIS_REPLY_ERROR) {
            (void) ngx_snprintf(rd->errstr, sizeof(rd->errstr) - 1,
                                "refused AUTH: \"%*s\"%Z",
                                ngx_min(r->len, NGX_HTTP_PAY_REDIS_ERR_LEN),
                                r->str);
            return NGX_ERROR;
        }

        return NGX_DECLINED;
    }

    if (r->type == REDIS_REPLY_NIL) {
        (void) ngx_snprintf(rd->errstr, sizeof(rd->errstr) - 1,
                            "does not know master \"%V\"%Z", &rd->master);
        return NGX_ERROR;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
        || r->element[0]->type != REDIS_REPLY_STRING
        || r->element[1]->type != REDIS_REPLY_STRING)
    {
        (void) ngx_snprintf(rd->errstr, sizeof(rd->errstr) - 1,
                            "unexpected answer%Z");
        return NGX_ERROR;
    }

    ip = r->element[0];
    p = r->element[1];

    addr = ngx_inet_addr((u_char *) ip->str, ip->len);
    port = ngx_atoi((u_char *) p->str, p->len);

    /* IPv4 only: what sentinels announce for a master in most setups */
    if (addr == INADDR_NONE || port < 1 || port > 65535) {
        (void) ngx_snprintf(rd->errstr, sizeof(rd->errstr) - 1,
                            "an address that is not IPv4:port%Z");
        return NGX_ERROR;
    }

    ngx_memzero(&rd->resolved, sizeof(ngx_sockaddr_t));
    rd->resolved.sockaddr_in.sin_family = AF_INET;
    rd->resolved.sockaddr_in.sin_addr.s_addr = addr;
    rd->resolved.sockaddr_in.sin_port = htons((in_port_t) port);
    rd->resolved_len = sizeof(struct sockaddr_in);

    return NGX_OK;
}


static void
ngx_http_pay_redis_sentinel_timeout(ngx_event_t *ev)
{
    ngx_http_pay_redis_sentinel_next(ev->data, "timed out");
}


static void
ngx_http_pay_redis_sentinel_close(ngx_http_pay_redis_t *rd)
{
    if (rd->sentinel_timer.timer_set) {
        ngx_del_timer(&rd->sentinel_timer);
    }

    if (rd->sc != NULL) {
        ngx_close_connection(rd->sc);
        rd->sc = NULL;
    }

    rd->spc.connection = NULL;

    if (rd->sentinel_reader != NULL) {
        redisReaderFree(rd->sentinel_reader);
        rd->sentinel_reader = NULL;
    }
}
