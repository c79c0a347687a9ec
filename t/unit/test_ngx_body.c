
/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of ngx_http_pay_body_get() (ngx_pay_module/ngx_http_pay_body.c),
 * compiled against the real nginx headers and linked with t/unit/ngx_stub.c:
 * every buffer shape nginx hands a request body over in, alone and mixed,
 * with the exact bytes expected, and the shapes that must fail cleanly.
 *
 * The file buffers read a real temporary file holding FILE_DATA.
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
#include <cmocka.h>

#include "ngx_http_pay_module.h"
#include "ngx_stub.h"


#define FILE_DATA  "0123456789abcdefghijklmnopqrstuvwxyz"
#define FILE_LEN   (sizeof(FILE_DATA) - 1)

#define NBUFS      8


static ngx_file_t  file;


static int group_setup(void **state);
static int group_teardown(void **state);
static int reset(void **state);
static void buf_mem(ngx_buf_t *b, const char *s);
static void buf_file(ngx_buf_t *b, ngx_file_t *f, off_t pos, off_t last);
static ngx_int_t body_get(ngx_buf_t *bufs, ngx_uint_t n, ngx_str_t *body);
static void assert_body(ngx_int_t rc, ngx_str_t *body, const char *expect);
static void assert_failed(ngx_int_t rc, ngx_str_t *body, ngx_uint_t level,
    const char *fmt_part);

static void test_no_body(void **state);
static void test_memory_one(void **state);
static void test_memory_several(void **state);
static void test_file_one(void **state);
static void test_file_offset(void **state);
static void test_memory_then_file(void **state);
static void test_file_then_memory(void **state);
static void test_last_buf_at_end(void **state);
static void test_last_buf_alone(void **state);
static void test_in_file_and_memory(void **state);
static void test_special_in_middle(void **state);
static void test_zero_length(void **state);
static void test_short_read(void **state);
static void test_in_file_null_file(void **state);
static void test_read_error(void **state);
static void test_invalid_shapes(void **state);
static void test_alloc_failure(void **state);
static void test_size_overflow(void **state);


static int
group_setup(void **state)
{
    (void) state;

    if (ngx_stub_file_open(&file) != 0
        || ngx_stub_file_set(&file, FILE_DATA, FILE_LEN) != 0)
    {
        perror("test_ngx_body: temporary file");
        return -1;
    }

    return 0;
}


static int
group_teardown(void **state)
{
    (void) state;

    ngx_stub_file_close(&file);
    ngx_stub_reset();

    return 0;
}


static int
reset(void **state)
{
    (void) state;

    ngx_stub_reset();

    return 0;
}


/* a temporary (r->request_body's own) memory buffer of s */

static void
buf_mem(ngx_buf_t *b, const char *s)
{
    ngx_memzero(b, sizeof(ngx_buf_t));

    b->temporary = 1;
    b->pos = (u_char *) s;
    b->last = b->pos + strlen(s);
}


/* file_pos..file_last of f, as a body spooled to a temporary file */

static void
buf_file(ngx_buf_t *b, ngx_file_t *f, off_t pos, off_t last)
{
    ngx_memzero(b, sizeof(ngx_buf_t));

    b->in_file = 1;
    b->file = f;
    b->file_pos = pos;
    b->file_last = last;
}


/* bufs[0..n-1] chained in order, as r->request_body->bufs */

static ngx_int_t
body_get(ngx_buf_t *bufs, ngx_uint_t n, ngx_str_t *body)
{
    ngx_uint_t          i;
    ngx_chain_t         cl[NBUFS];
    ngx_stub_request_t  sr;

    assert_true(n > 0 && n <= NBUFS);

    for (i = 0; i < n; i++) {
        cl[i].buf = &bufs[i];
        cl[i].next = (i + 1 < n) ? &cl[i + 1] : NULL;
    }

    ngx_stub_request_init(&sr, cl);

    body->len = 12345;
    body->data = (u_char *) "garbage";

    return ngx_http_pay_body_get(&sr.r, body, 0);
}


static void
assert_body(ngx_int_t rc, ngx_str_t *body, const char *expect)
{
    size_t  len;

    len = strlen(expect);

    assert_int_equal(rc, NGX_OK);
    assert_int_equal(body->len, len);
    assert_int_equal(ngx_stub.logs, 0);

    if (len == 0) {
        assert_null(body->data);
        return;
    }

    assert_non_null(body->data);
    assert_memory_equal(body->data, expect, len);
}


static void
assert_failed(ngx_int_t rc, ngx_str_t *body, ngx_uint_t level,
    const char *fmt_part)
{
    assert_int_equal(rc, NGX_ERROR);
    assert_int_equal(body->len, 0);
    assert_null(body->data);

    if (fmt_part == NULL) {
        assert_int_equal(ngx_stub.logs, 0);
        return;
    }

    assert_int_equal(ngx_stub.logs, 1);
    assert_int_equal(ngx_stub.log_level, level);
    assert_non_null(strstr(ngx_stub.log_fmt, fmt_part));
}


static void
test_no_body(void **state)
{
    ngx_int_t           rc;
    ngx_str_t           body;
    ngx_stub_request_t  sr;

    (void) state;

    /* no request body read at all */
    ngx_stub_request_init(&sr, NULL);
    sr.r.request_body = NULL;
    rc = ngx_http_pay_body_get(&sr.r, &body, 0);
    assert_body(rc, &body, "");

    /* a request body without buffers */
    ngx_stub_request_init(&sr, NULL);
    rc = ngx_http_pay_body_get(&sr.r, &body, 0);
    assert_body(rc, &body, "");

    assert_int_equal(ngx_stub.allocs, 0);
    assert_int_equal(ngx_stub.reads, 0);
}


/* a bound: over it is NGX_DECLINED before anything is copied */

static void
test_max(void **state)
{
    ngx_int_t           rc;
    ngx_str_t           body;
    ngx_buf_t           b[3];
    ngx_chain_t         cl[3];
    ngx_stub_request_t  sr;

    (void) state;

    buf_mem(&b[0], "{\"id\":");
    buf_mem(&b[1], "\"evt_1\"");
    buf_mem(&b[2], "}");

    cl[0].buf = &b[0];
    cl[0].next = &cl[1];
    cl[1].buf = &b[1];
    cl[1].next = &cl[2];
    cl[2].buf = &b[2];
    cl[2].next = NULL;

    /* 14 bytes: exactly the bound is taken */
    ngx_stub_request_init(&sr, cl);
    rc = ngx_http_pay_body_get(&sr.r, &body, 14);
    assert_body(rc, &body, "{\"id\":\"evt_1\"}");

    /* one byte over: refused, nothing allocated, nothing logged */
    ngx_stub_reset();
    ngx_stub_request_init(&sr, cl);
    rc = ngx_http_pay_body_get(&sr.r, &body, 13);
    assert_int_equal(rc, NGX_DECLINED);
    assert_int_equal(body.len, 0);
    assert_null(body.data);
    assert_int_equal(ngx_stub.allocs, 0);
    assert_int_equal(ngx_stub.logs, 0);
}


static void
test_memory_one(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[1];

    (void) state;

    buf_mem(&b[0], "{\"id\":\"evt_1\"}");

    rc = body_get(b, 1, &body);

    assert_body(rc, &body, "{\"id\":\"evt_1\"}");
    assert_ptr_equal(body.data, b[0].pos);      /* used in place */
    assert_int_equal(ngx_stub.allocs, 0);
    assert_int_equal(ngx_stub.reads, 0);
}


static void
test_memory_several(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[3];

    (void) state;

    /* the three in-memory flags, each on its own */

    buf_mem(&b[0], "{\"id\":");
    buf_mem(&b[1], "\"evt_1\"");
    b[1].temporary = 0;
    b[1].memory = 1;
    buf_mem(&b[2], "}");
    b[2].temporary = 0;
    b[2].mmap = 1;

    rc = body_get(b, 3, &body);

    assert_body(rc, &body, "{\"id\":\"evt_1\"}");
    assert_ptr_not_equal(body.data, b[0].pos);
    assert_int_equal(ngx_stub.allocs, 1);
    assert_int_equal(ngx_stub.reads, 0);
}


static void
test_file_one(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[1];

    (void) state;

    buf_file(&b[0], &file, 0, FILE_LEN);

    rc = body_get(b, 1, &body);

    assert_body(rc, &body, FILE_DATA);
    assert_int_equal(ngx_stub.allocs, 1);
    assert_int_equal(ngx_stub.reads, 1);
}


static void
test_file_offset(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[2];

    (void) state;

    buf_file(&b[0], &file, 10, 16);

    rc = body_get(b, 1, &body);

    assert_body(rc, &body, "abcdef");
    assert_int_equal(ngx_stub.reads, 1);

    /* two ranges of the same file, out of order */

    ngx_stub_reset();

    buf_file(&b[0], &file, 33, 36);
    buf_file(&b[1], &file, 1, 4);

    rc = body_get(b, 2, &body);

    assert_body(rc, &body, "xyz123");
    assert_int_equal(ngx_stub.reads, 2);
}


static void
test_memory_then_file(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[2];

    (void) state;

    /* what is left of the header buffer, then the rest spooled */

    buf_mem(&b[0], "head-");
    buf_file(&b[1], &file, 0, 10);

    rc = body_get(b, 2, &body);

    assert_body(rc, &body, "head-0123456789");
    assert_int_equal(ngx_stub.allocs, 1);
    assert_int_equal(ngx_stub.reads, 1);
}


static void
test_file_then_memory(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[3];

    (void) state;

    buf_file(&b[0], &file, 26, 36);
    buf_mem(&b[1], "-tail");

    rc = body_get(b, 2, &body);

    assert_body(rc, &body, "qrstuvwxyz-tail");
    assert_int_equal(ngx_stub.allocs, 1);
    assert_int_equal(ngx_stub.reads, 1);

    /* memory, file, memory */

    ngx_stub_reset();

    buf_mem(&b[0], "<");
    buf_file(&b[1], &file, 20, 23);
    buf_mem(&b[2], ">");

    rc = body_get(b, 3, &body);

    assert_body(rc, &body, "<klm>");
    assert_int_equal(ngx_stub.reads, 1);
}


static void
test_last_buf_at_end(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[4];

    (void) state;

    /* a chunked body: its data, then an empty last_buf (the crash) */

    buf_mem(&b[0], "chunked");
    ngx_memzero(&b[1], sizeof(ngx_buf_t));
    b[1].last_buf = 1;

    rc = body_get(b, 2, &body);

    assert_body(rc, &body, "chunked");
    assert_ptr_equal(body.data, b[0].pos);      /* still in place */
    assert_int_equal(ngx_stub.allocs, 0);
    assert_int_equal(ngx_stub.reads, 0);

    /* the same, the body spooled to a file in between */

    ngx_stub_reset();

    buf_mem(&b[0], "chunk:");
    buf_file(&b[1], &file, 0, 3);
    buf_mem(&b[2], ":end");
    ngx_memzero(&b[3], sizeof(ngx_buf_t));
    b[3].last_buf = 1;

    rc = body_get(b, 4, &body);

    assert_body(rc, &body, "chunk:012:end");
    assert_int_equal(ngx_stub.allocs, 1);
    assert_int_equal(ngx_stub.reads, 1);

    /* a file only (client_body_in_file_only), then the empty last_buf */

    ngx_stub_reset();

    buf_file(&b[0], &file, 0, FILE_LEN);
    ngx_memzero(&b[1], sizeof(ngx_buf_t));
    b[1].last_buf = 1;
    b[1].last_in_chain = 1;

    rc = body_get(b, 2, &body);

    assert_body(rc, &body, FILE_DATA);
    assert_int_equal(ngx_stub.reads, 1);
}


static void
test_last_buf_alone(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[2];

    (void) state;

    /* an empty chunked body: "0\r\n\r\n" and nothing else */

    ngx_memzero(&b[0], sizeof(ngx_buf_t));
    b[0].last_buf = 1;

    rc = body_get(b, 1, &body);

    assert_body(rc, &body, "");
    assert_int_equal(ngx_stub.allocs, 0);
    assert_int_equal(ngx_stub.reads, 0);

    /* with an empty in-memory buffer before it */

    buf_mem(&b[0], "");
    ngx_memzero(&b[1], sizeof(ngx_buf_t));
    b[1].last_buf = 1;

    rc = body_get(b, 2, &body);

    assert_body(rc, &body, "");
    assert_int_equal(ngx_stub.allocs, 0);
    assert_int_equal(ngx_stub.reads, 0);
}


static void
test_in_file_and_memory(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[2];

    (void) state;

    /* both in memory and in a file: the memory bytes, the file unread */

    buf_mem(&b[0], "MEMORY");
    b[0].in_file = 1;
    b[0].file = &file;
    b[0].file_pos = 0;
    b[0].file_last = 6;

    rc = body_get(b, 1, &body);

    assert_body(rc, &body, "MEMORY");
    assert_ptr_equal(body.data, b[0].pos);
    assert_int_equal(ngx_stub.reads, 0);

    /* the file's range is not even looked at: past its end, no file */

    b[0].file_pos = 1000;
    b[0].file_last = 2000;

    rc = body_get(b, 1, &body);

    assert_body(rc, &body, "MEMORY");
    assert_int_equal(ngx_stub.reads, 0);

    b[0].file = NULL;

    rc = body_get(b, 1, &body);

    assert_body(rc, &body, "MEMORY");
    assert_int_equal(ngx_stub.reads, 0);

    /* copied with a plain file buffer after it: one read, the other's */

    ngx_stub_reset();

    buf_mem(&b[0], "MEM");
    b[0].memory = 1;
    b[0].in_file = 1;
    b[0].file = &file;
    b[0].file_pos = 0;
    b[0].file_last = 3;
    buf_file(&b[1], &file, 3, 6);

    rc = body_get(b, 2, &body);

    assert_body(rc, &body, "MEM345");
    assert_int_equal(ngx_stub.allocs, 1);
    assert_int_equal(ngx_stub.reads, 1);
}


static void
test_special_in_middle(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[6];

    (void) state;

    buf_mem(&b[0], "a");
    ngx_memzero(&b[1], sizeof(ngx_buf_t));
    b[1].flush = 1;
    buf_file(&b[2], &file, 1, 3);
    ngx_memzero(&b[3], sizeof(ngx_buf_t));
    b[3].sync = 1;
    buf_mem(&b[4], "b");
    ngx_memzero(&b[5], sizeof(ngx_buf_t));
    b[5].last_buf = 1;

    rc = body_get(b, 6, &body);

    assert_body(rc, &body, "a12b");
    assert_int_equal(ngx_stub.allocs, 1);
    assert_int_equal(ngx_stub.reads, 1);

    /* special buffers around the only data: still used in place */

    ngx_stub_reset();

    ngx_memzero(&b[0], sizeof(ngx_buf_t));
    b[0].sync = 1;
    buf_mem(&b[1], "only");
    ngx_memzero(&b[2], sizeof(ngx_buf_t));
    b[2].flush = 1;
    ngx_memzero(&b[3], sizeof(ngx_buf_t));
    b[3].last_buf = 1;

    rc = body_get(b, 4, &body);

    assert_body(rc, &body, "only");
    assert_ptr_equal(body.data, b[1].pos);
    assert_int_equal(ngx_stub.allocs, 0);
}


static void
test_zero_length(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[5];

    (void) state;

    /* empty in-memory buffers, NULL or not, around the only data */

    ngx_memzero(&b[0], sizeof(ngx_buf_t));
    b[0].temporary = 1;                         /* pos == last == NULL */
    buf_mem(&b[1], "");
    b[1].temporary = 0;
    b[1].memory = 1;
    buf_mem(&b[2], "x");
    buf_file(&b[3], &file, 5, 5);               /* an empty file range */
    buf_mem(&b[4], "");

    rc = body_get(b, 5, &body);

    assert_body(rc, &body, "x");
    assert_ptr_equal(body.data, b[2].pos);
    assert_int_equal(ngx_stub.allocs, 0);
    assert_int_equal(ngx_stub.reads, 0);

    /* between data buffers */

    buf_mem(&b[0], "ab");
    buf_mem(&b[1], "");
    ngx_memzero(&b[2], sizeof(ngx_buf_t));
    b[2].mmap = 1;
    buf_file(&b[3], &file, 7, 7);
    buf_mem(&b[4], "cd");

    rc = body_get(b, 5, &body);

    assert_body(rc, &body, "abcd");
    assert_int_equal(ngx_stub.allocs, 1);
    assert_int_equal(ngx_stub.reads, 0);

    /* nothing but empty ones */

    ngx_stub_reset();

    buf_mem(&b[0], "");
    buf_file(&b[1], &file, 0, 0);
    ngx_memzero(&b[2], sizeof(ngx_buf_t));
    b[2].memory = 1;

    rc = body_get(b, 3, &body);

    assert_body(rc, &body, "");
    assert_int_equal(ngx_stub.allocs, 0);
    assert_int_equal(ngx_stub.reads, 0);
}


static void
test_short_read(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[2];

    (void) state;

    /* the file is shorter than the buffer says */

    buf_mem(&b[0], "x");
    buf_file(&b[1], &file, 30, 40);

    rc = body_get(b, 2, &body);

    assert_failed(rc, &body, NGX_LOG_ALERT, "read only");
    assert_int_equal(ngx_stub.reads, 1);

    /* entirely past its end: pread() reads nothing */

    ngx_stub_reset();

    buf_file(&b[0], &file, 100, 110);

    rc = body_get(b, 1, &body);

    assert_failed(rc, &body, NGX_LOG_ALERT, "read only");
    assert_int_equal(ngx_stub.reads, 1);
}


static void
test_in_file_null_file(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[3];

    (void) state;

    /* in_file without a file: refused before anything is read */

    buf_file(&b[0], NULL, 0, 10);

    rc = body_get(b, 1, &body);

    assert_failed(rc, &body, NGX_LOG_ALERT, "unknown shape");
    assert_int_equal(ngx_stub.allocs, 0);
    assert_int_equal(ngx_stub.reads, 0);

    /* after good buffers, and empty: the same */

    ngx_stub_reset();

    buf_mem(&b[0], "ok");
    buf_file(&b[1], &file, 0, 3);
    buf_file(&b[2], NULL, 0, 0);
    b[2].last_buf = 1;

    rc = body_get(b, 3, &body);

    assert_failed(rc, &body, NGX_LOG_ALERT, "unknown shape");
    assert_int_equal(ngx_stub.allocs, 0);
    assert_int_equal(ngx_stub.reads, 0);
}


static void
test_read_error(void **state)
{
    ngx_int_t   rc;
    ngx_str_t   body;
    ngx_buf_t   b[2];
    ngx_file_t  closed;

    (void) state;

    /* pread() fails: ngx_read_file()'s own error is passed on */

    closed = file;
    closed.fd = NGX_INVALID_FILE;

    buf_mem(&b[0], "x");
    buf_file(&b[1], &closed, 0, 3);

    rc = body_get(b, 2, &body);

    assert_failed(rc, &body, NGX_LOG_CRIT, "pread()");
    assert_int_equal(ngx_stub.reads, 1);
}


static void
test_invalid_shapes(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[2];

    (void) state;

    buf_mem(&b[0], "x");

    /* a file range backwards */
    buf_file(&b[1], &file, 5, 4);
    rc = body_get(b, 2, &body);
    assert_failed(rc, &body, NGX_LOG_ALERT, "unknown shape");
    ngx_stub_reset();

    /* before the file's start */
    buf_file(&b[1], &file, -1, 4);
    rc = body_get(b, 2, &body);
    assert_failed(rc, &body, NGX_LOG_ALERT, "unknown shape");
    ngx_stub_reset();

    /* memory backwards */
    buf_mem(&b[1], "yz");
    b[1].last = b[1].pos;
    b[1].pos++;
    rc = body_get(b, 2, &body);
    assert_failed(rc, &body, NGX_LOG_ALERT, "unknown shape");
    ngx_stub_reset();

    /* memory from NULL */
    buf_mem(&b[1], "yz");
    b[1].pos = NULL;
    rc = body_get(b, 2, &body);
    assert_failed(rc, &body, NGX_LOG_ALERT, "unknown shape");

    assert_int_equal(ngx_stub.allocs, 0);
    assert_int_equal(ngx_stub.reads, 0);
}


static void
test_alloc_failure(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[2];

    (void) state;

    buf_mem(&b[0], "ab");
    buf_file(&b[1], &file, 0, 2);
    ngx_stub.fail_alloc = 1;

    rc = body_get(b, 2, &body);

    /* the pool logs its own failure in nginx */
    assert_failed(rc, &body, 0, NULL);
    assert_int_equal(ngx_stub.allocs, 1);
    assert_int_equal(ngx_stub.reads, 0);

    /* a body far larger than memory: the same, nothing read */

    ngx_stub_reset();

    buf_file(&b[0], &file, 0, (off_t) 1 << 40);

    rc = body_get(b, 1, &body);

    assert_failed(rc, &body, 0, NULL);
    assert_int_equal(ngx_stub.allocs, 1);
    assert_int_equal(ngx_stub.reads, 0);
}


static void
test_size_overflow(void **state)
{
    ngx_int_t  rc;
    ngx_str_t  body;
    ngx_buf_t  b[2];

    (void) state;

    buf_file(&b[0], &file, 0, NGX_MAX_OFF_T_VALUE);
    buf_file(&b[1], &file, 0, NGX_MAX_OFF_T_VALUE);

    rc = body_get(b, 2, &body);

    assert_failed(rc, &body, NGX_LOG_ALERT, "overflow");
    assert_int_equal(ngx_stub.allocs, 0);
    assert_int_equal(ngx_stub.reads, 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_no_body, reset, reset),
        cmocka_unit_test_setup_teardown(test_max, reset, reset),
        cmocka_unit_test_setup_teardown(test_memory_one, reset, reset),
        cmocka_unit_test_setup_teardown(test_memory_several, reset, reset),
        cmocka_unit_test_setup_teardown(test_file_one, reset, reset),
        cmocka_unit_test_setup_teardown(test_file_offset, reset, reset),
        cmocka_unit_test_setup_teardown(test_memory_then_file, reset, reset),
        cmocka_unit_test_setup_teardown(test_file_then_memory, reset, reset),
        cmocka_unit_test_setup_teardown(test_last_buf_at_end, reset, reset),
        cmocka_unit_test_setup_teardown(test_last_buf_alone, reset, reset),
        cmocka_unit_test_setup_teardown(test_in_file_and_memory, reset,
                                        reset),
        cmocka_unit_test_setup_teardown(test_special_in_middle, reset, reset),
        cmocka_unit_test_setup_teardown(test_zero_length, reset, reset),
        cmocka_unit_test_setup_teardown(test_short_read, reset, reset),
        cmocka_unit_test_setup_teardown(test_in_file_null_file, reset, reset),
        cmocka_unit_test_setup_teardown(test_read_error, reset, reset),
        cmocka_unit_test_setup_teardown(test_invalid_shapes, reset, reset),
        cmocka_unit_test_setup_teardown(test_alloc_failure, reset, reset),
        cmocka_unit_test_setup_teardown(test_size_overflow, reset, reset),
    };

    return cmocka_run_group_tests_name("ngx_http_pay_body", tests,
                                       group_setup, group_teardown);
}
