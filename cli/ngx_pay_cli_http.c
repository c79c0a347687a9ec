
/*
 * Copyright (C) ngx_pay authors
 *
 * ngx-pay's HTTP, with libcurl: one request at a time, the answer's
 * status, header block and body kept, and what the module's answers mean
 * (docs/cli.md#what-an-answer-means).
 */


#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ngx_pay_cli.h"
#include "ngx_http_pay_version.h"


#define CLI_ANSWER_MAX  (8 * 1024 * 1024)


static size_t cli_http_write(char *data, size_t size, size_t n, void *arg);
static size_t cli_http_header(char *data, size_t size, size_t n, void *arg);
static int cli_buf_append(cli_buf_t *buf, const char *data, size_t len);


int
cli_http_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}


void
cli_http_cleanup(void)
{
    curl_global_cleanup();
}


/*
 * method with url; bearer (a secret, never printed) as Authorization;
 * headers; body when method is POST.  Returns 0 with res filled in
 * whatever the status, or -1 after one line naming the URL and why it
 * could not be asked (unreachable, timed out, ...).
 */

int
cli_http(const char *method, const char *url, const char *bearer,
    const cli_headers_t *headers, const unsigned char *body, size_t len,
    long timeout, cli_response_t *res)
{
    int                 rc;
    char               *line, errbuf[CURL_ERROR_SIZE], shown[512];
    size_t              i, n;
    CURL               *curl;
    CURLcode            code;
    struct curl_slist  *list, *l;

    memset(res, 0, sizeof(cli_response_t));

    curl = curl_easy_init();
    if (curl == NULL) {
        cli_error("libcurl: cannot make a handle");
        return -1;
    }

    list = NULL;
    rc = -1;
    errbuf[0] = '\0';

    /* no "Expect: 100-continue": one round trip, as providers do */
    l = curl_slist_append(list, "Expect:");
    if (l == NULL) {
        goto done;
    }
    list = l;

    if (body != NULL) {
        l = curl_slist_append(list, "Content-Type: application/json");
        if (l == NULL) {
            goto done;
        }
        list = l;
    }

    for (i = 0; headers != NULL && i < headers->n; i++) {
        n = strlen(headers->name[i]) + 2 + strlen(headers->value[i]) + 1;
        line = malloc(n);
        if (line == NULL) {
            goto done;
        }

        snprintf(line, n, "%s: %s", headers->name[i], headers->value[i]);
        l = curl_slist_append(list, line);
        free(line);
        if (l == NULL) {
            goto done;
        }
        list = l;
    }

    if (bearer != NULL) {
        /* libcurl copies it; the copy here is wiped */
        n = sizeof("Authorization: Bearer ") + strlen(bearer);
        line = malloc(n);
        if (line == NULL) {
            goto done;
        }

        snprintf(line, n, "Authorization: Bearer %s", bearer);
        l = curl_slist_append(list, line);
        memset(line, 0, n);
        free(line);
        if (l == NULL) {
            goto done;
        }
        list = l;
    }

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "ngx-pay/" NGX_PAY_VERSION);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cli_http_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &res->body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, cli_http_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &res->head);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    /* before 7.85.0, which deprecates it */
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS,
                     (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif

    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t) len);

    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }

    code = curl_easy_perform(curl);

    if (code != CURLE_OK) {
        cli_url_redact(url, shown, sizeof(shown));
        cli_error("%s %s: %s", method, shown,
                  errbuf[0] ? errbuf : curl_easy_strerror(code));
        cli_response_free(res);
        goto free;
    }

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);

    if (res->body.data == NULL) {
        res->body.data = calloc(1, 1);
    }

    if (res->head.data == NULL) {
        res->head.data = calloc(1, 1);
    }

    if (res->body.data == NULL || res->head.data == NULL) {
        cli_error("out of memory");
        cli_response_free(res);
        goto free;
    }

    rc = 0;
    goto free;

done:

    cli_error("out of memory");

free:

    curl_slist_free_all(list);
    curl_easy_cleanup(curl);

    return rc;
}


/*
 * 1 when url is plain http:// to a host other than this machine's
 * loopback: what it carries can be read on the way.
 */

int
cli_url_plain_remote(const char *url)
{
    size_t       n;
    const char  *host, *end, *at;

    if (strncasecmp(url, "http://", 7) != 0) {
        return 0;
    }

    host = url + 7;
    end = host + strcspn(host, "/?#");

    at = memchr(host, '@', (size_t) (end - host));
    while (at != NULL) {
        host = at + 1;
        at = memchr(host, '@', (size_t) (end - host));
    }

    if (*host == '[') {
        return !(end - host >= 5 && memcmp(host, "[::1]", 5) == 0);
    }

    n = strcspn(host, ":/?#");

    if ((n == 9 && strncasecmp(host, "localhost", 9) == 0)
        || (n > 4 && memcmp(host, "127.", 4) == 0
            && strspn(host, "0123456789.") >= n))
    {
        return 0;
    }

    return 1;
}


/*
 * A URL as messages show it: without the user:password@ of its authority
 * and with its query string as "?...", either may carry a secret; the
 * scheme, the host, the port and the path stay.
 */

void
cli_url_redact(const char *url, char *out, size_t size)
{
    size_t       n, len;
    const char  *p, *auth, *end, *at;

    p = strstr(url, "://");
    auth = (p != NULL) ? p + 3 : url;
    end = auth + strcspn(auth, "/?#");

    at = NULL;
    for (p = auth; p < end; p++) {
        if (*p == '@') {
            at = p;
        }
    }

    n = 0;

    /* the scheme and the "://" */
    len = (size_t) (auth - url);
    n += (size_t) snprintf(out, size, "%.*s", (int) len, url);

    if (at != NULL) {
        auth = at + 1;
    }

    /* the host and port, the path */
    len = (size_t) (end - auth) + strcspn(end, "?#");

    if (n < size) {
        n += (size_t) snprintf(out + n, size - n, "%.*s", (int) len, auth);
    }

    if (auth[len] != '\0' && n < size) {
        snprintf(out + n, size - n, "?...");
    }

    if (n >= size && size > 4) {
        /* cut: say so */
        memcpy(out + size - 4, "...", 4);
    }
}


/*
 * The answer's Retry-After in seconds (delta-seconds only, RFC 9110; a
 * date is not read), or -1 when there is none that can be read.
 */

long long
cli_response_retry_after(const cli_response_t *res)
{
    long long     v;
    const char   *p, *end, *line;
    static const char  name[] = "retry-after:";

    p = (const char *) res->head.data;
    end = p + res->head.len;

    for (line = p; line < end; line = p) {
        p = memchr(line, '\n', (size_t) (end - line));
        p = (p == NULL) ? end : p + 1;

        if ((size_t) (p - line) <= sizeof(name) - 1
            || strncasecmp(line, name, sizeof(name) - 1) != 0)
        {
            continue;
        }

        line += sizeof(name) - 1;
        while (line < p && (*line == ' ' || *line == '\t')) {
            line++;
        }

        if (line == p || *line < '0' || *line > '9') {
            return -1;
        }

        for (v = 0; line < p && *line >= '0' && *line <= '9'; line++) {
            v = v * 10 + (*line - '0');
            if (v > 86400) {
                return 86400;
            }
        }

        return v;
    }

    return -1;
}


void
cli_response_free(cli_response_t *res)
{
    cli_buf_free(&res->head);
    cli_buf_free(&res->body);
}


static size_t
cli_http_write(char *data, size_t size, size_t n, void *arg)
{
    return cli_buf_append(arg, data, size * n) == 0 ? size * n : 0;
}


/* the header block of the last answer only (not of a 1xx before it) */

static size_t
cli_http_header(char *data, size_t size, size_t n, void *arg)
{
    cli_buf_t  *head;

    head = arg;

    if (size * n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        head->len = 0;
    }

    return cli_buf_append(head, data, size * n) == 0 ? size * n : 0;
}


static int
cli_buf_append(cli_buf_t *buf, const char *data, size_t len)
{
    unsigned char  *p;

    if (buf->len + len > CLI_ANSWER_MAX) {
        return -1;
    }

    p = realloc(buf->data, buf->len + len + 1);
    if (p == NULL) {
        return -1;
    }

    buf->data = p;
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';

    return 0;
}


/*
 * A duplicate: the module answers a verified event that was delivered
 * already itself, 200 with the JSON object {"received":true,
 * "duplicate":true} (docs/errors.md); the app's answers never reach the
 * sender with that member unless the app says so in the same words.
 */

int
cli_response_duplicate(const cli_response_t *res)
{
    int           dup;
    json_t       *j;
    json_error_t  err;

    if (res->status != 200) {
        return 0;
    }

    j = json_loadb((const char *) res->body.data, res->body.len, 0, &err);
    dup = (j != NULL && json_is_object(j)
           && json_is_true(json_object_get(j, "duplicate")));
    json_decref(j);

    return dup;
}


/* the "code" of a problem+json answer; 0, or -1 when there is none */

int
cli_response_code(const cli_response_t *res, char *code, size_t size)
{
    int           rc;
    json_t       *j, *c;
    const char   *s;
    json_error_t  err;

    rc = -1;

    j = json_loadb((const char *) res->body.data, res->body.len, 0, &err);
    if (j == NULL) {
        return -1;
    }

    c = json_object_get(j, "code");

    if (json_is_string(c)) {
        s = json_string_value(c);
        if (strlen(s) < size && strspn(s, "abcdefghijklmnopqrstuvwxyz_")
                                == strlen(s))
        {
            strcpy(code, s);
            rc = 0;
        }
    }

    json_decref(j);

    return rc;
}


/*
 * One word for an answer: "delivered" (2xx from the app), "duplicate",
 * the problem+json code, or "http_error" (any other answer).
 */

const char *
cli_response_outcome(const cli_response_t *res, char *code, size_t size)
{
    if (cli_response_duplicate(res)) {
        return "duplicate";
    }

    if (res->status >= 200 && res->status < 300) {
        return "delivered";
    }

    if (cli_response_code(res, code, size) == 0) {
        return code;
    }

    return "http_error";
}
