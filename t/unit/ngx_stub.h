
/*
 * Copyright (C) ngx_pay authors
 *
 * Stand-ins for the few nginx functions the module's glue files link to,
 * so that a glue file (ngx_pay_module/ngx_http_pay_*.c) can be compiled
 * against the real nginx headers and driven by a unit test or a fuzzer
 * without an nginx binary.  Shared by t/unit/test_ngx_*.c and
 * t/fuzz/fuzz_body.c.
 *
 *   ngx_pnalloc          malloc, every block freed by ngx_stub_reset();
 *                        NULL on demand (ngx_stub.fail_alloc) or above
 *                        NGX_STUB_MAX_ALLOC, as a pool out of memory;
 *   ngx_read_file        pread(), as nginx does it, on a real file;
 *                        aborts on a NULL file (the crash it would be);
 *   ngx_log_error_core   counts, keeps the level, errno and format (the
 *                        message itself when NGX_STUB_LOG is set);
 *   ngx_pcalloc          ngx_pnalloc, zeroed;
 *   ngx_sprintf          %V, %s, %Z and %% only: what the glue's zone
 *                        and store names need; aborts on anything else;
 *   ngx_shmtx_lock       and unlock: nothing, one process;
 *   ngx_debug_point      aborts;
 *   ngx_cycle            a cycle with a log, ngx_current_msec, and
 *                        ngx_pagesize (and its shift) of the machine, set
 *                        by ngx_stub_reset(), for nginx's own slab
 *                        allocator (src/core/ngx_slab.c);
 *   ngx_shared_memory_add, ngx_parse_size, ngx_conf_log_error: abort,
 *                        configuration is not unit-tested.
 */


#ifndef _NGX_STUB_H_INCLUDED_
#define _NGX_STUB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_STUB_MAX_ALLOC  (64 * 1024 * 1024)


typedef struct {
    ngx_uint_t            allocs;       /* ngx_pnalloc calls */
    ngx_uint_t            reads;        /* ngx_read_file calls */
    ngx_uint_t            logs;         /* ngx_log_error_core calls */
    ngx_uint_t            log_level;    /* of the last one */
    ngx_err_t             log_err;      /* of the last one */
    const char           *log_fmt;      /* of the last one */

    ngx_uint_t            fail_alloc;   /* the next ngx_pnalloc fails */
} ngx_stub_t;


/* a request with a body chain, enough for the body walk */
typedef struct {
    ngx_http_request_t        r;
    ngx_connection_t          c;
    ngx_log_t                 log;
    ngx_http_request_body_t   rb;
} ngx_stub_request_t;


extern ngx_stub_t  ngx_stub;


/* frees what ngx_pnalloc gave and clears ngx_stub */
void ngx_stub_reset(void);

void ngx_stub_request_init(ngx_stub_request_t *sr, ngx_chain_t *bufs);

/* an unlinked temporary file holding data: 0 or -1 (errno set) */
int ngx_stub_file_open(ngx_file_t *file);
int ngx_stub_file_set(ngx_file_t *file, const void *data, size_t len);
void ngx_stub_file_close(ngx_file_t *file);


#endif /* _NGX_STUB_H_INCLUDED_ */
