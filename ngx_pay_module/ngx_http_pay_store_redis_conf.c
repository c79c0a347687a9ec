
/*
 * Copyright (C) ngx_pay authors
 *
 * The Redis store engine's configuration: pay_store's words redis= (or
 * sentinel=, master=, sentinel_password=), db=,
 * user=, password=, timeout=, ping=, prefix=, wait= and the tls words parsed
 * into the store's ngx_http_pay_store_redis_t.  It runs only while the
 * configuration is read, hence a file apart from the engine's run time in
 * ngx_http_pay_store_redis.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_module.h"
#include "ngx_http_pay_store_redis.h"


static ngx_int_t ngx_http_pay_store_redis_address(ngx_conf_t *cf,
    ngx_http_pay_store_redis_t *rs, ngx_str_t *addr);
static ngx_int_t ngx_http_pay_store_redis_sentinels(ngx_conf_t *cf,
    ngx_http_pay_store_redis_t *rs, ngx_str_t *list);
static ngx_int_t ngx_http_pay_store_redis_tls_word(ngx_conf_t *cf,
    ngx_http_pay_store_redis_t *rs, ngx_str_t *word);
static ngx_int_t ngx_http_pay_store_redis_secret(ngx_conf_t *cf,
    ngx_str_t *word, size_t skip, ngx_str_t *to);


/*
 * pay_store NAME redis=HOST:PORT|unix:PATH | sentinel=IP:PORT[,...]
 *     master=NAME [sentinel_password=SECRET] [db=N] [user=USER]
 *     [password=SECRET] [timeout=250ms] [connect_timeout=3s] [ping=10s]
 *     [prefix=pay:] [wait=N]
 *     [tls] [tls_trusted_certificate=FILE] [tls_name=NAME]
 *     [tls_certificate=FILE tls_certificate_key=FILE]
 */

char *
ngx_http_pay_store_redis_conf(ngx_conf_t *cf, ngx_http_pay_store_t *store,
    ngx_str_t *args, ngx_uint_t nargs)
{
    ngx_int_t                    n;
    ngx_str_t                    s;
    ngx_uint_t                   i, prefix;
    ngx_http_pay_store_redis_t  *rs;

    rs = ngx_pcalloc(cf->pool, sizeof(ngx_http_pay_store_redis_t));
    if (rs == NULL) {
        return NGX_CONF_ERROR;
    }

    rs->redis.name = store->name;
    rs->redis.timeout = NGX_CONF_UNSET_MSEC;
    rs->redis.connect_timeout = NGX_CONF_UNSET_MSEC;
    rs->redis.db = NGX_CONF_UNSET_UINT;
    rs->redis.ping = NGX_CONF_UNSET_MSEC;

    prefix = 0;

    for (i = 0; i < nargs; i++) {

        /* words from the configuration parser are NUL-terminated */

        if (ngx_strncmp(args[i].data, "redis=", 6) == 0) {
            if (rs->redis.addr.data != NULL) {
                goto duplicate;
            }

            s.data = args[i].data + 6;
            s.len = args[i].len - 6;

            if (ngx_http_pay_store_redis_address(cf, rs, &s) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(args[i].data, "sentinel=", 9) == 0) {
            if (rs->redis.nsentinels) {
                goto duplicate;
            }

            s.data = args[i].data + 9;
            s.len = args[i].len - 9;

            if (ngx_http_pay_store_redis_sentinels(cf, rs, &s) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(args[i].data, "master=", 7) == 0) {
            if (rs->redis.master.data != NULL) {
                goto duplicate;
            }

            if (args[i].len == 7) {
                goto invalid;
            }

            rs->redis.master.data = args[i].data + 7;
            rs->redis.master.len = args[i].len - 7;
            continue;
        }

        if (ngx_strncmp(args[i].data, "sentinel_password=", 18) == 0) {
            if (rs->redis.sentinel_password.data != NULL) {
                goto duplicate;
            }

            if (ngx_http_pay_store_redis_secret(cf, &args[i], 18,
                                                &rs->redis.sentinel_password)
                != NGX_OK)
            {
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

            if (ngx_http_pay_store_redis_secret(cf, &args[i], 9,
                                                &rs->redis.password)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(args[i].data, "user=", 5) == 0) {
            if (rs->redis.user.data != NULL) {
                goto duplicate;
            }

            if (ngx_http_pay_store_redis_secret(cf, &args[i], 5,
                                                &rs->redis.user)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(args[i].data, "wait=", 5) == 0) {
            if (rs->wait) {
                goto duplicate;
            }

            n = ngx_atoi(args[i].data + 5, args[i].len - 5);
            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            rs->wait = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(args[i].data, "ping=", 5) == 0) {
            if (rs->redis.ping != NGX_CONF_UNSET_MSEC) {
                goto duplicate;
            }

            s.data = args[i].data + 5;
            s.len = args[i].len - 5;

            if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                rs->redis.ping = 0;
                continue;
            }

            rs->redis.ping = ngx_parse_time(&s, 0);

            if (rs->redis.ping == (ngx_msec_t) NGX_ERROR
                || rs->redis.ping == 0)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(args[i].data, "tls", 3) == 0) {
            switch (ngx_http_pay_store_redis_tls_word(cf, rs, &args[i])) {
            case NGX_OK:
                continue;
            case NGX_DECLINED:
                goto duplicate;
            case NGX_ABORT:
                break;
            default:
                return NGX_CONF_ERROR;
            }
        }

        if (ngx_strncmp(args[i].data, "connect_timeout=", 16) == 0) {
            if (rs->redis.connect_timeout != NGX_CONF_UNSET_MSEC) {
                goto duplicate;
            }

            s.data = args[i].data + 16;
            s.len = args[i].len - 16;

            rs->redis.connect_timeout = ngx_parse_time(&s, 0);

            if (rs->redis.connect_timeout == (ngx_msec_t) NGX_ERROR
                || rs->redis.connect_timeout == 0)
            {
                goto invalid;
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

    if (rs->redis.nsentinels) {
        if (rs->redis.addr.data != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "pay_store \"%V\": \"redis=\" and "
                               "\"sentinel=\" exclude each other",
                               &store->name);
            return NGX_CONF_ERROR;
        }

        if (rs->redis.master.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "pay_store \"%V\": \"sentinel=\" needs "
                               "\"master=\"", &store->name);
            return NGX_CONF_ERROR;
        }

        /* both questions to a sentinel fit its 1024-byte buffer */

        if (rs->redis.master.len > NGX_HTTP_PAY_REDIS_MASTER_MAX
            || rs->redis.sentinel_password.len
               > NGX_HTTP_PAY_REDIS_SENTINEL_PASSWORD_MAX)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "pay_store \"%V\": \"master=\" takes at most "
                               "%d bytes, \"sentinel_password=\" %d",
                               &store->name, NGX_HTTP_PAY_REDIS_MASTER_MAX,
                               NGX_HTTP_PAY_REDIS_SENTINEL_PASSWORD_MAX);
            return NGX_CONF_ERROR;
        }

        /* for logs: the master's name stands for the address */
        rs->redis.addr = rs->redis.master;

    } else if (rs->redis.master.len || rs->redis.sentinel_password.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_store \"%V\": \"master=\" and "
                           "\"sentinel_password=\" need \"sentinel=\"",
                           &store->name);
        return NGX_CONF_ERROR;
    }

    if (rs->redis.addr.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_store \"%V\": no \"redis=\" address",
                           &store->name);
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_msec_value(rs->redis.timeout, 250);

    /*
     * a connection's setup (resolving, TCP, TLS, AUTH and SELECT) takes
     * several round trips: a managed Redis far away needs more than one
     * command's timeout=
     */
    ngx_conf_init_msec_value(rs->redis.connect_timeout, 3000);
    ngx_conf_init_uint_value(rs->redis.db, 0);
    ngx_conf_init_msec_value(rs->redis.ping, 10000);

    if (rs->redis.user.len && rs->redis.password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_store \"%V\": \"user=\" needs "
                           "\"password=\"", &store->name);
        return NGX_CONF_ERROR;
    }

    if (rs->redis.tls != NULL) {
        if (rs->redis.tls->name.len == 0) {
            if (rs->host.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "pay_store \"%V\": \"tls\" over a unix "
                                   "socket or with \"sentinel=\" needs "
                                   "\"tls_name=\"", &store->name);
                return NGX_CONF_ERROR;
            }

            rs->redis.tls->name = rs->host;
        }

        if (ngx_http_pay_redis_tls_conf(cf, &rs->redis) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

    } else if (rs->tls_words) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_store \"%V\": \"tls_*=\" parameters need "
                           "\"tls\"", &store->name);
        return NGX_CONF_ERROR;
    }

    if (!prefix) {
        ngx_str_set(&rs->prefix, "pay:");
    }

    store->data = rs;

    /* wait=: a webhook's answer waits for its completion's WAIT */
    store->confirms = (rs->wait != 0);

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
 * A numeric address is kept as it is; a name is left to nginx's resolver,
 * asked at every connection (see the postconf below): nothing here or in
 * a worker calls getaddrinfo().
 */

static ngx_int_t
ngx_http_pay_store_redis_address(ngx_conf_t *cf,
    ngx_http_pay_store_redis_t *rs, ngx_str_t *addr)
{
    u_char              *p;
    size_t               len;
    ngx_url_t            u;
    struct sockaddr_un  *sun;

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

        sun = ngx_pcalloc(cf->pool, sizeof(struct sockaddr_un));
        if (sun == NULL) {
            return NGX_ERROR;
        }

        sun->sun_family = AF_UNIX;
        (void) ngx_cpystrn((u_char *) sun->sun_path, addr->data + 5,
                           len + 1);

        rs->redis.sockaddr = (struct sockaddr *) sun;
        rs->redis.socklen = sizeof(struct sockaddr_un);
        rs->redis.addr = *addr;

        return NGX_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *addr;
    u.default_port = 6379;
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "pay_store \"%V\": %s in \"redis=%V\"",
                               &rs->redis.name, u.err, addr);
        }

        return NGX_ERROR;
    }

    if (u.uri.len || u.host.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_store \"%V\": invalid address in "
                           "\"redis=%V\"", &rs->redis.name, addr);
        return NGX_ERROR;
    }

    if (u.naddrs) {
        /* a numeric address */
        rs->redis.sockaddr = u.addrs[0].sockaddr;
        rs->redis.socklen = u.addrs[0].socklen;
        rs->redis.addr = u.addrs[0].name;

    } else {
        /* a name: resolved by nginx's resolver at every connection */
        rs->redis.addr = *addr;
        rs->redis.port = u.port;
        rs->resolve = 1;
    }

    /* the name TLS checks by default, NUL-terminated, without [] */

    p = ngx_pnalloc(cf->pool, u.host.len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    rs->host.data = p;
    rs->host.len = u.host.len;

    if (u.host.len > 2 && u.host.data[0] == '[') {
        rs->host.len -= 2;
        ngx_memcpy(p, u.host.data + 1, rs->host.len);

    } else {
        ngx_memcpy(p, u.host.data, u.host.len);
    }

    p[rs->host.len] = '\0';

    if (rs->resolve) {
        rs->redis.host = rs->host;
    }

    return NGX_OK;
}


/*
 * Once the http block is read: a host name needs the http{} level's
 * "resolver" (nginx makes a resolver without servers when none is set,
 * which can resolve nothing).
 */

ngx_int_t
ngx_http_pay_store_redis_postconf(ngx_conf_t *cf, ngx_http_pay_store_t *store)
{
    ngx_http_pay_store_redis_t  *rs;
    ngx_http_core_loc_conf_t    *clcf;

    rs = store->data;

    if (!rs->resolve) {
        return NGX_OK;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->resolver == NULL || clcf->resolver->connections.nelts == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "pay_store \"%V\": \"redis=%V\" names a host, which "
                      "needs a \"resolver\" in the http block (or give an "
                      "IP address) in %s:%ui", &store->name, &rs->redis.addr,
                      store->file, store->line);
        return NGX_ERROR;
    }

    rs->redis.resolver = clcf->resolver;

    /*
     * nginx's resolver asks over UDP without DNSSEC: a forged answer at a
     * reconnection would point the store at another Redis, which could
     * answer "done" to every claim (deliveries acknowledged and never
     * forwarded).  TLS's name check closes that; say so when it is off.
     */
    if (rs->redis.tls == NULL) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "pay_store \"%V\": \"redis=%V\" is a host name "
                      "resolved again at every connection, over plain TCP: "
                      "a forged DNS answer could point the store at another "
                      "Redis; use \"tls\" (its certificate names the host) "
                      "or an IP address in %s:%ui", &store->name,
                      &rs->redis.addr, store->file, store->line);
    }

    /* the http level's own value is merged into servers only */
    rs->redis.resolver_timeout =
        (clcf->resolver_timeout == NGX_CONF_UNSET_MSEC)
        ? 30000 : clcf->resolver_timeout;

    return NGX_OK;
}


/* sentinel=IP:PORT[,IP:PORT...]: addresses only, asked in turn */

static ngx_int_t
ngx_http_pay_store_redis_sentinels(ngx_conf_t *cf,
    ngx_http_pay_store_redis_t *rs, ngx_str_t *list)
{
    u_char      *p, *last, *comma;
    ngx_url_t    u;
    ngx_uint_t   n;
    ngx_addr_t  *a;

    n = 1;
    last = list->data + list->len;

    for (p = list->data; p < last; p++) {
        if (*p == ',') {
            n++;
        }
    }

    a = ngx_pcalloc(cf->pool, n * sizeof(ngx_addr_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    rs->redis.sentinels = a;

    for (p = list->data; p <= last; p = comma + 1) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        ngx_memzero(&u, sizeof(ngx_url_t));

        u.url.data = p;
        u.url.len = comma - p;
        u.default_port = 26379;
        u.no_resolve = 1;

        if (u.url.len == 0
            || ngx_parse_url(cf->pool, &u) != NGX_OK
            || u.uri.len
            || u.naddrs == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "pay_store \"%V\": \"sentinel=\" takes "
                               "IP:PORT addresses, not \"%V\"",
                               &rs->redis.name, &u.url);
            return NGX_ERROR;
        }

        *a++ = u.addrs[0];
        rs->redis.nsentinels++;
    }

    return NGX_OK;
}


/*
 * tls, tls_trusted_certificate=, tls_certificate=, tls_certificate_key=,
 * tls_name=: NGX_OK, NGX_DECLINED (a duplicate), NGX_ABORT (not one of
 * them) or NGX_ERROR
 */

static ngx_int_t
ngx_http_pay_store_redis_tls_word(ngx_conf_t *cf,
    ngx_http_pay_store_redis_t *rs, ngx_str_t *word)
{
    size_t                     skip;
    ngx_str_t                 *to;
    ngx_http_pay_redis_tls_t  *tls;

    /*
     * One struct for all the tls words, whichever comes first: "tls" only
     * makes it the store's, so a tls_*= word written before "tls" (a CA,
     * a name) is never lost and verification never falls back silently
     * to the system's bundle
     */

    if (rs->tls == NULL) {
        rs->tls = ngx_pcalloc(cf->pool, sizeof(ngx_http_pay_redis_tls_t));
        if (rs->tls == NULL) {
            return NGX_ERROR;
        }
    }

    tls = rs->tls;

    if (word->len == 3) {
        if (rs->redis.tls != NULL) {
            return NGX_DECLINED;
        }

        rs->redis.tls = tls;
        return NGX_OK;
    }

    if (ngx_strncmp(word->data, "tls_trusted_certificate=", 24) == 0) {
        skip = 24;
        to = &tls->trusted;

    } else if (ngx_strncmp(word->data, "tls_certificate=", 16) == 0) {
        skip = 16;
        to = &tls->certificate;

    } else if (ngx_strncmp(word->data, "tls_certificate_key=", 20) == 0) {
        skip = 20;
        to = &tls->certificate_key;

    } else if (ngx_strncmp(word->data, "tls_name=", 9) == 0) {
        skip = 9;
        to = &tls->name;

    } else {
        return NGX_ABORT;
    }

    if (to->data != NULL) {
        return NGX_DECLINED;
    }

    if (word->len == skip) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "pay_store \"%V\": empty \"%V\"",
                           &rs->redis.name, word);
        return NGX_ERROR;
    }

    /* words from the configuration parser are NUL-terminated */
    to->data = word->data + skip;
    to->len = word->len - skip;

    rs->tls_words = 1;

    return NGX_OK;
}


/* password= and user=: a value, env:NAME or file:PATH, never logged */

static ngx_int_t
ngx_http_pay_store_redis_secret(ngx_conf_t *cf, ngx_str_t *word,
    size_t skip, ngx_str_t *to)
{
    ngx_str_t  s;

    static ngx_str_t  directive = ngx_string("pay_store");

    s.data = word->data + skip;
    s.len = word->len - skip;

    /* its messages name the directive, never the secret */
    return ngx_http_pay_secret_load(cf, &directive, &s, to);
}
