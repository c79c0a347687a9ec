/*
 * Copyright (C) ngx_pay authors
 *
 * Unit tests of pay_resp.c: the bytes of commands written out by hand,
 * then hiredis's own redisFormatCommandArgv() (what the module used until
 * 0.4.0) on random commands, byte for byte, and lengths that do not fit
 * and commands of no argument.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>

#include "pay_resp.h"


#define MAX_ARGS  16


/* formats into a buffer of the exact size, so ASan sees a byte past it */

static char *
format(int argc, const char **argv, const size_t *argvlen, size_t *len)
{
    char  *buf, *end;

    *len = pay_resp_command_len(argc, argvlen);
    assert_true(*len > 0);

    buf = malloc(*len);
    assert_non_null(buf);

    end = pay_resp_command(buf, argc, argv, argvlen);
    assert_ptr_equal(end, buf + *len);

    return buf;
}


static void
expect(int argc, const char **argv, const size_t *argvlen, const char *want,
    size_t want_len)
{
    char    *buf;
    size_t   len;

    buf = format(argc, argv, argvlen, &len);

    assert_int_equal(len, want_len);
    assert_memory_equal(buf, want, want_len);

    free(buf);
}


static void
test_by_hand(void **state)
{
    static const char  *set[] = { "SET", "k", "v" };
    static const size_t set_len[] = { 3, 1, 1 };
    static const char  *empty[] = { "GET", NULL };
    static const size_t empty_len[] = { 3, 0 };
    static const char  *bin[] = { "SET", "a\r\n\0b", "0123456789" };
    static const size_t bin_len[] = { 3, 5, 10 };
    static const char   bin_want[] =
        "*3\r\n$3\r\nSET\r\n$5\r\na\r\n\0b\r\n$10\r\n0123456789\r\n";

    (void) state;

    expect(3, set, set_len, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
           sizeof("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n") - 1);
    expect(2, empty, empty_len, "*2\r\n$3\r\nGET\r\n$0\r\n\r\n",
           sizeof("*2\r\n$3\r\nGET\r\n$0\r\n\r\n") - 1);
    expect(3, bin, bin_len, bin_want, sizeof(bin_want) - 1);
}


static void
test_against_hiredis(void **state)
{
    int          i, k, argc, n;
    char        *buf, *cmd, *args[MAX_ARGS];
    size_t       len, argvlen[MAX_ARGS];
    const char  *argv[MAX_ARGS];

    static const size_t  lens[] = { 0, 1, 9, 10, 99, 100, 999, 1000,
                                    65535, 65536, 100000 };

    (void) state;

    srand(20261202);

    for (i = 0; i < 20000; i++) {
        argc = 1 + rand() % MAX_ARGS;

        for (k = 0; k < argc; k++) {
            argvlen[k] = (rand() % 8 == 0)
                         ? lens[rand() % (sizeof(lens) / sizeof(lens[0]))]
                         : (size_t) (rand() % 300);

            args[k] = malloc(argvlen[k] ? argvlen[k] : 1);
            assert_non_null(args[k]);

            for (n = 0; n < (int) argvlen[k]; n++) {
                args[k][n] = (char) rand();
            }

            argv[k] = args[k];
        }

        buf = format(argc, argv, argvlen, &len);

        n = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
        assert_true(n > 0);
        assert_int_equal(len, (size_t) n);
        assert_memory_equal(buf, cmd, len);

        redisFreeCommand(cmd);
        free(buf);

        for (k = 0; k < argc; k++) {
            free(args[k]);
        }
    }
}


static void
test_too_long(void **state)
{
    size_t  argvlen[2];

    (void) state;

    argvlen[0] = 3;
    argvlen[1] = (size_t) -1;
    assert_int_equal(pay_resp_command_len(2, argvlen), 0);

    argvlen[0] = (size_t) -1 / 2;
    argvlen[1] = (size_t) -1 / 2;
    assert_int_equal(pay_resp_command_len(2, argvlen), 0);

    /* no command at all */
    assert_int_equal(pay_resp_command_len(0, argvlen), 0);
    assert_int_equal(pay_resp_command_len(-1, argvlen), 0);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_hand),
        cmocka_unit_test(test_against_hiredis),
        cmocka_unit_test(test_too_long),
    };

    return cmocka_run_group_tests_name("pay_resp", tests, NULL, NULL);
}
