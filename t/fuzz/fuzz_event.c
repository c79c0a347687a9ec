/*
 * Copyright (C) ngx_pay authors
 *
 * libFuzzer target: pay_event_parse_stripe() on arbitrary bodies, copied
 * into a buffer of their exact size.  Invariants that do not hold abort().
 */


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pay_event.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void check_field(const char *field, size_t len, int optional);


/* an optional field (type) is left empty when absent */

static void
check_field(const char *field, size_t len, int optional)
{
    size_t  i;

    if ((len == 0 && !optional) || len > PAY_EVENT_FIELD_MAX
        || field[len] != '\0')
    {
        abort();
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) field[i] < 0x21
            || (unsigned char) field[i] > 0x7e)
        {
            abort();
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          i;
    pay_rc_e        rc;
    pay_event_t     ev;
    unsigned char  *body;

    body = (size != 0) ? malloc(size) : NULL;

    if (size != 0) {
        if (body == NULL) {
            abort();
        }

        memcpy(body, data, size);
    }

    memset(&ev, 0x5a, sizeof(ev));

    rc = pay_event_parse_stripe(body, size, &ev);

    if (rc == PAY_OK) {
        check_field(ev.id, ev.id_len, 0);
        check_field(ev.type, ev.type_len, 1);

        if (ev.livemode < -1 || ev.livemode > 1) {
            abort();
        }

    } else {
        if (rc != PAY_ERR_BODY_MALFORMED || ev.id_len != 0
            || ev.type_len != 0 || ev.livemode != -1)
        {
            abort();
        }

        for (i = 0; i < sizeof(ev.id); i++) {
            if (ev.id[i] != '\0' || ev.type[i] != '\0') {
                abort();
            }
        }
    }

    free(body);

    return 0;
}
