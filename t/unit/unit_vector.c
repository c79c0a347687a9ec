/*
 * Copyright (C) ngx_pay authors
 *
 * Reading a test vector file whole.
 */


#include <stdio.h>
#include <stdlib.h>

#include "unit_vector.h"


int
read_vector(const char *name, body_t *body)
{
    long         size;
    FILE        *f;
    char         path[4096];
    const char  *dir;

    dir = getenv("PAY_VECTORS");
    if (dir == NULL || dir[0] == '\0') {
        dir = "t/vectors";
    }

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s (set PAY_VECTORS)\n", path);
        return -1;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        return -1;
    }

    body->data = malloc((size_t) size + 1);
    if (body->data == NULL) {
        fclose(f);
        return -1;
    }

    body->len = fread(body->data, 1, (size_t) size, f);
    fclose(f);

    return (body->len == (size_t) size) ? 0 : -1;
}
