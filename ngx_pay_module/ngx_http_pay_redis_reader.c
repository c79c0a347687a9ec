
/*
 * Copyright (C) ngx_pay authors
 *
 * hiredis's reply reader as the module uses it, for the store's
 * connection and the sentinels' alike: its arrays may declare at most
 * NGX_HTTP_PAY_REDIS_ELEMENTS_MAX elements per reply, all together.
 * hiredis allocates an array's slots when it reads its header and walks
 * them all when the reply is freed, so "*2147483647" from a server that
 * is not Redis would otherwise cost a 16 GB allocation, or minutes of the
 * worker freeing the reader.  A leaf: it calls nothing of the module's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_pay_redis.h"


/* the module's largest reply is ROLE's, with the list of replicas */
#define NGX_HTTP_PAY_REDIS_ELEMENTS_MAX  1024


static void *ngx_http_pay_redis_create_array(const redisReadTask *task,
    int elements);


/* hiredis's reply functions, with an array's size checked first */
static redisReplyObjectFunctions  ngx_http_pay_redis_reply_functions;
static void *(*ngx_http_pay_redis_default_array)(const redisReadTask *task,
    int elements);


/* the declared elements are counted in *declared, which the caller sets
   to 0 at each new reply */

redisReader *
ngx_http_pay_redis_reader(ngx_uint_t *declared)
{
    redisReader  *reader;

    reader = redisReaderCreate();
    if (reader == NULL) {
        return NULL;
    }

    if (ngx_http_pay_redis_default_array == NULL) {
        ngx_http_pay_redis_reply_functions = *reader->fn;
        ngx_http_pay_redis_default_array = reader->fn->createArray;
        ngx_http_pay_redis_reply_functions.createArray =
                                              ngx_http_pay_redis_create_array;
    }

    *declared = 0;

    reader->fn = &ngx_http_pay_redis_reply_functions;
    reader->privdata = declared;

    return reader;
}


/* the reader failed because an array was refused */

ngx_uint_t
ngx_http_pay_redis_reader_refused(ngx_uint_t declared)
{
    return declared > NGX_HTTP_PAY_REDIS_ELEMENTS_MAX;
}


static void *
ngx_http_pay_redis_create_array(const redisReadTask *task, int elements)
{
    ngx_uint_t  *declared;

    declared = task->privdata;

    if (elements < 0
        || *declared > NGX_HTTP_PAY_REDIS_ELEMENTS_MAX
        || (ngx_uint_t) elements > NGX_HTTP_PAY_REDIS_ELEMENTS_MAX - *declared)
    {
        /* NULL: the reader fails ("Out of memory"), and says which */
        *declared = NGX_HTTP_PAY_REDIS_ELEMENTS_MAX + 1;
        return NULL;
    }

    *declared += elements;

    return ngx_http_pay_redis_default_array(task, elements);
}
