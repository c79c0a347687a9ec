/*
 * Copyright (C) ngx_pay authors
 *
 * Webhook dedupe decisions (docs/operations.md): the namespace that keeps one
 * endpoint's records apart from another's, what came of a forwarded
 * attempt, and what its claim becomes in the store.  Pure C (OpenSSL for
 * SHA-256).
 */


#ifndef PAY_DEDUPE_H_INCLUDED_
#define PAY_DEDUPE_H_INCLUDED_


#include <stddef.h>


/* the longest namespace kept as written; longer ones are hashed */
#define PAY_DEDUPE_NAMESPACE_LITERAL_MAX  64

/* '#' and 32 lowercase hex digits of SHA-256 */
#define PAY_DEDUPE_NAMESPACE_HASH_LEN     33

#define PAY_DEDUPE_NAMESPACE_MAX          PAY_DEDUPE_NAMESPACE_LITERAL_MAX


typedef enum {
    /* the app answered 2xx: the event is done */
    PAY_DEDUPE_ACCEPTED = 0,
    /* the app answered something else, or never got the request */
    PAY_DEDUPE_FAILED,
    /* the request went to the app and no answer came back */
    PAY_DEDUPE_UNKNOWN
} pay_dedupe_outcome_e;


typedef enum {
    /* processing -> done: later deliveries are duplicates */
    PAY_DEDUPE_COMPLETE = 0,
    /* processing -> absent: the next delivery is new */
    PAY_DEDUPE_RELEASE,
    /* processing -> unknown: the next delivery is forwarded as a retry */
    PAY_DEDUPE_ABANDON
} pay_dedupe_settle_e;


/* one upstream attempt, as nginx recorded it */
typedef struct {
    int   sent;         /* writing the request began */
    int   answered;     /* the app's response header was read */
    int   status;       /* its status when answered */
} pay_dedupe_attempt_t;


/*
 * The namespace as it goes into store keys.  Kept as written when it is
 * 1..PAY_DEDUPE_NAMESPACE_LITERAL_MAX bytes of [A-Za-z0-9] and
 * "-._~/=@^*"; anything else (empty, longer, other bytes, ':' included)
 * becomes '#' and the first 32 lowercase hex digits of SHA-256 of a
 * version tag and the bytes, so a key stays bounded and its ':'
 * separators unambiguous.  Writes the result and a NUL to out and
 * returns its length (at most PAY_DEDUPE_NAMESPACE_MAX), or 0 when
 * OpenSSL fails.  in may be NULL when len is 0.
 */
size_t pay_dedupe_namespace(const unsigned char *in, size_t len,
    char out[PAY_DEDUPE_NAMESPACE_MAX + 1]);

/*
 * What came of a request whose claim was new (or a retry): status is the
 * final response status, attempts the upstream tries in order (n may be
 * 0: no upstream, e.g. a location that answers itself).
 *
 *   ACCEPTED  status is 2xx, and so is the last attempt's answer when
 *             there was an attempt (an error_page that turns a 502 into
 *             a 200 does not make the event done);
 *   UNKNOWN   otherwise, when any attempt was sent but not answered: an
 *             upstream timeout or reset, or a client abort, after the
 *             request went out; the app may have acted on it;
 *   FAILED    otherwise: the app answered, and not with a 2xx, or no
 *             request reached it.
 */
pay_dedupe_outcome_e pay_dedupe_outcome(int status,
    const pay_dedupe_attempt_t *attempts, size_t n);

/*
 * What the claim becomes: ACCEPTED completes it; UNKNOWN abandons it (the
 * next delivery is flagged retry); FAILED releases it, unless this
 * delivery was itself a retry (retry non-zero): then the earlier
 * attempt's uncertainty stands and the claim is abandoned again.
 */
pay_dedupe_settle_e pay_dedupe_settle(pay_dedupe_outcome_e outcome,
    int retry);


#endif /* PAY_DEDUPE_H_INCLUDED_ */
