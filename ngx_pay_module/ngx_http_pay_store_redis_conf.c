
/*
 * Copyright (C) ngx_pay authors
 *
 * The Redis store engine's configuration: pay_store's words redis=, db=,
 * password=, timeout= and prefix= parsed into the store's
 * ngx_http_pay_store_redis_t.  It runs only while the configuration is
 * read (in the master, which resolves a host name here so that no worker
 * ever does), hence a file apart from the engine's run time in
 * ngx_http_pay_store_redis.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_store_redis.h"


static ngx_int_t ngx_http_pay_store_redis_address(ngx_conf_t *cf,
    ngx_http_pay_store_redis_t *rs, ngx_str_t *addr);


/*
 * pay_store NAME redis=HOST:PORT|unix:PATH [db=N] [password=SECRET]
 *     [timeout=250ms] [prefix=pay:]
 */

char *
ngx_http_pay_store_redis_conf(ngx_conf_t *cf, ngx_http_pay_store_t *store,
    ngx_str_t *args, ngx_uint_t nargs)
{
    ngx_int_t                    n;
    ngx_str_t                    s;
    ngx_uint_t                   i, prefix;
    ngx_http_pay_store_redis_t  *rs;

    static ngx_str_t  directive = ngx_string("pay_store");

    rs = ngx_pcalloc(cf->pool, sizeof(ngx_http_pay_store_redis_t));
    if (rs == NULL) {
        return NGX_CONF_ERROR;
    }

    rs->redis.name = store->name;
    rs->redis.timeout = NGX_CONF_UNSET_MSEC;
    rs->redis.db = NGX_CONF_UNSET_UINT;

    prefix = 0;

    for (i = 0; i < nargs; i++) {

        /* words from the configuration parser are NUL-terminated */

        if (ngx_strncmp(args[i].data, "redis=", 6) == 0) {
            if (rs->redis.host != NULL) {
                goto duplicate;
            }

            s.data = args[i].data + 6;
            s.len = args[i].len - 6;

            if (ngx_http_pay_store_redis_address(cf, rs, &s) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(args[i].data, "db=", 3) == 0) {
            if (rs->redis.db != NGX_CONF_UNSET_UINT) {
                goto duplicate;
            }

            n = ngx_atoi(args[i].data + 3, args[i].len - 3);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            rs->redis.db = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(args[i].data, "password=", 9) == 0) {
            if (rs->redis.password.data != NULL) {
                goto duplicate;
            }

            s.data = args[i].data + 9;
            s.len = args[i].len - 9;

            /* its messages name the directive, never the secret */
            if (ngx_http_pay_secret_load(cf, &directive, &s,
                                         &rs->redis.password)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(args[i].data, "timeout=", 8) == 0) {
            if (rs->redis.timeout != NGX_CONF_UNSET_MSEC) {
                goto duplicate;
            }

            s.data = args[i].data + 8;
            s.len = args[i].len - 8;

            rs->redis.timeout = ngx_parse_time(&s, 0);

            if (rs->redis.timeout == (ngx_msec_t) NGX_ERROR
                || rs->redis.timeout == 0)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(args[i].data, "prefix=", 7) == 0) {
            if (prefix) {
                goto duplicate;
            }

            /* may be empty: the keys are then the bare record keys */
            rs->prefix.data = args[i].data + 7;
            rs->prefix.len = args[i].len - 7;
            prefix = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_store \"%V\": invalid parameter \"%V\"",
                           &store->name, &args[i]);
        return NGX_CONF_ERROR;
    }

    if (rs->redis.host == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_store \"%V\": no \"redis=\" address",
                           &store->name);
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_msec_value(rs->redis.timeout, 250);
    ngx_conf_init_uint_value(rs->redis.db, 0);

    if (!prefix) {
        ngx_str_set(&rs->prefix, "pay:");
    }

    store->data = rs;

    return NGX_CONF_OK;

duplicate:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "pay_store \"%V\": duplicate parameter \"%V\"",
                       &store->name, &args[i]);
    return NGX_CONF_ERROR;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "pay_store \"%V\": invalid value in \"%V\"",
                       &store->name, &args[i]);
    return NGX_CONF_ERROR;
}


/*
 * Names are resolved here, while loading the configuration: hiredis gets
 * the first address as a numeric IP and never calls getaddrinfo() on a
 * name in a worker.
 */

static ngx_int_t
ngx_http_pay_store_redis_address(ngx_conf_t *cf,
    ngx_http_pay_store_redis_t *rs, ngx_str_t *addr)
{
    u_char     *p;
    size_t      len;
    ngx_url_t   u;

    if (addr->len >= 5 && ngx_strncmp(addr->data, "unix:", 5) == 0) {
        len = addr->len - 5;

        if (len == 0
            || len >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "pay_store \"%V\": invalid unix socket "
                               "path in \"redis=%V\"", &rs->redis.name,
                               addr);
            return NGX_ERROR;
        }

        p = ngx_pnalloc(cf->pool, len + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        (void) ngx_cpystrn(p, addr->data + 5, len + 1);

        rs->redis.host = p;
        rs->redis.port = 0;
        rs->redis.addr = *addr;

        return NGX_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *addr;
    u.default_port = 6379;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "pay_store \"%V\": %s in \"redis=%V\"",
                               &rs->redis.name, u.err, addr);
        }

        return NGX_ERROR;
    }

    if (u.uri.len || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_store \"%V\": invalid address in "
                           "\"redis=%V\"", &rs->redis.name, addr);
        return NGX_ERROR;
    }

    p = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen, p,
                        NGX_SOCKADDR_STRLEN, 0);
    p[len] = '\0';

    rs->redis.host = p;
    rs->redis.port = ngx_inet_get_port(u.addrs[0].sockaddr);
    rs->redis.addr = u.addrs[0].name;

    return NGX_OK;
}
