#include "CReactorTLS.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/pem.h>

// MARK: Per-connection flags, kept by the info callback in the connection's ex_data slot 0 (its "app data").

static unsigned int flags_of(const SSL *ssl) { return (unsigned int)(uintptr_t)SSL_get_ex_data(ssl, 0); }

static void info_callback(const SSL *ssl, int where, int ret) {
    unsigned int flags = flags_of(ssl);
    unsigned int before = flags;
    if (where & SSL_CB_HANDSHAKE_DONE) flags |= CReactorTLS_FLAG_HANDSHAKE_DONE;
    // A TLS 1.2 ClientHello after the handshake: OpenSSL refuses it with a no_renegotiation warning alert
    // (SSL_OP_NO_RENEGOTIATION) and would carry on; we note it so the connection can be closed for it, as nginx does.
    if ((where & SSL_CB_WRITE_ALERT) == SSL_CB_WRITE_ALERT && (ret & 0xff) == SSL_AD_NO_RENEGOTIATION)
        flags |= CReactorTLS_FLAG_RENEGOTIATION;
    if ((where & SSL_CB_HANDSHAKE_START) && (before & CReactorTLS_FLAG_HANDSHAKE_DONE) &&
        SSL_version(ssl) <= TLS1_2_VERSION)
        flags |= CReactorTLS_FLAG_RENEGOTIATION;
    if (flags != before) SSL_set_ex_data((SSL *)ssl, 0, (void *)(uintptr_t)flags);
}

unsigned int CReactorTLS_flags(const SSL *ssl) { return flags_of(ssl); }

int CReactorTLS_has_pending(const SSL *ssl) { return SSL_pending(ssl) > 0 || SSL_has_pending(ssl); }

// MARK: Contexts

SSL_CTX *CReactorTLS_context_new(int is_server) {
    SSL_CTX *ctx = SSL_CTX_new(is_server ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL) return NULL;
    // Partial writes: SSL_write returns after each record, so the queue can drop exactly what was sent. Moving
    // buffer: a record that could not be sent is retried from wherever its bytes are queued by then.
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    if (is_server) {
        SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
        // Resumption by tickets only: no shared, locked session cache between the loops.
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        static const unsigned char id[] = "swift-reactor";
        SSL_CTX_set_session_id_context(ctx, id, sizeof(id) - 1);
    }
    // One read(2) fills OpenSSL's record buffer with as many records as are there, not one header at a time.
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_info_callback(ctx, info_callback);
    return ctx;
}

int CReactorTLS_set_versions(SSL_CTX *ctx, int min_version, int max_version) {
    return SSL_CTX_set_min_proto_version(ctx, min_version) == 1 &&
           SSL_CTX_set_max_proto_version(ctx, max_version) == 1;
}

void CReactorTLS_set_release_buffers(SSL_CTX *ctx, int on) {
    if (on) SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    else SSL_CTX_clear_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
}

void CReactorTLS_set_tickets(SSL_CTX *ctx, int on, size_t tickets) {
    if (on) {
        SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, tickets);
    } else {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 0);
    }
}

typedef struct {
    unsigned int length;
    unsigned char wire[];
} alpn_list;

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
    (void)ssl;
    const alpn_list *list = arg;
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, list->wire, list->length, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol (RFC 7301 §3.2)
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

static int alpn_list_index = -1;

static void alpn_list_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    OPENSSL_free(ptr);
}

int CReactorTLS_set_alpn_server(SSL_CTX *ctx, const unsigned char *wire, unsigned int length) {
    if (alpn_list_index < 0)  // first use happens while building a context, before any loop runs
        alpn_list_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, alpn_list_free);
    alpn_list *list = OPENSSL_malloc(sizeof(alpn_list) + length);
    if (list == NULL) return 0;
    list->length = length;
    memcpy(list->wire, wire, length);
    if (SSL_CTX_set_ex_data(ctx, alpn_list_index, list) != 1) {  // freed with the context
        OPENSSL_free(list);
        return 0;
    }
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, list);
    return 1;
}

int CReactorTLS_use_certificate_chain_pem(SSL_CTX *ctx, const char *pem, size_t length) {
    BIO *bio = BIO_new_mem_buf(pem, (int)length);
    if (bio == NULL) return 0;
    X509 *leaf = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
    int ok = leaf != NULL && SSL_CTX_use_certificate(ctx, leaf) == 1 && SSL_CTX_clear_chain_certs(ctx) == 1;
    X509_free(leaf);
    while (ok) {
        X509 *next = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (next == NULL) {
            unsigned long error = ERR_peek_last_error();
            if (ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE) ERR_clear_error();
            else ok = 0;
            break;
        }
        if (SSL_CTX_add0_chain_cert(ctx, next) != 1) {
            X509_free(next);
            ok = 0;
        }
    }
    BIO_free(bio);
    return ok;
}

int CReactorTLS_use_private_key_pem(SSL_CTX *ctx, const char *pem, size_t length) {
    BIO *bio = BIO_new_mem_buf(pem, (int)length);
    if (bio == NULL) return 0;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    int ok = key != NULL && SSL_CTX_use_PrivateKey(ctx, key) == 1;
    EVP_PKEY_free(key);
    BIO_free(bio);
    return ok;
}

void CReactorTLS_set_servername_callback(SSL_CTX *ctx, int (*callback)(SSL *ssl, int *alert, void *arg), void *arg) {
    SSL_CTX_set_tlsext_servername_callback(ctx, callback);
    SSL_CTX_set_tlsext_servername_arg(ctx, arg);
}

const char *CReactorTLS_servername(const SSL *ssl) { return SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name); }

// MARK: The socket BIO
//
// OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE (and kills a process that did not ignore it)
// when the peer has gone. This one is the same socket BIO with send(MSG_NOSIGNAL), like every other write of
// ReactorCore: a vanished peer is an EPIPE for that one connection, nothing more. The descriptor is the BIO's data;
// the BIO never closes it (the loop does).

static int socket_bio_retryable(int error) {
    return error == EAGAIN || error == EWOULDBLOCK || error == EINTR || error == EINPROGRESS || error == EALREADY;
}

static int socket_bio_write(BIO *bio, const char *data, int length) {
    int fd = (int)(intptr_t)BIO_get_data(bio);
    errno = 0;
    ssize_t sent = send(fd, data, (size_t)length, MSG_NOSIGNAL);
    BIO_clear_retry_flags(bio);
    if (sent < 0 && socket_bio_retryable(errno)) BIO_set_retry_write(bio);
    return (int)sent;
}

// Whether this thread's last socket read left the socket empty: it returned fewer bytes than asked for (a stream
// socket hands over all it holds, up to the request) or would have blocked. CReactorTLS_read stops on it instead of
// asking again for the EAGAIN it already knows of: one read(2) per batch instead of two, as the plain read path does
// (SubReactor+ReadPath.swift). The loop's level-triggered epoll reports whatever arrives next.
static __thread int socket_bio_drained;

static int socket_bio_read(BIO *bio, char *data, int length) {
    if (data == NULL) return 0;
    int fd = (int)(intptr_t)BIO_get_data(bio);
    errno = 0;
    ssize_t got = read(fd, data, (size_t)length);
    BIO_clear_retry_flags(bio);
    if (got < 0 && socket_bio_retryable(errno)) BIO_set_retry_read(bio);
    socket_bio_drained = got < (ssize_t)length && got != 0;
    return (int)got;
}

static long socket_bio_ctrl(BIO *bio, int command, long number, void *pointer) {
    (void)number;
    switch (command) {
    case BIO_CTRL_FLUSH: return 1;  // nothing is buffered here
    // BIO_CTRL_EOF answers 0 (the default below), deliberately: OpenSSL then reports a read(2) of 0 as
    // SSL_ERROR_SYSCALL with errno 0 (CReactorTLS_EOF, `tlsTruncated`) instead of raising a fatal error, so the
    // session stays usable for the replies still queued and for our close_notify (found by TLSReadPathFuzzer:
    // `truncated-eof-fatal`).
    case BIO_C_GET_FD:
        if (pointer != NULL) *(int *)pointer = (int)(intptr_t)BIO_get_data(bio);
        return (long)(intptr_t)BIO_get_data(bio);
    default: return 0;
    }
}

static int socket_bio_create(BIO *bio) {
    BIO_set_init(bio, 1);
    return 1;
}

static BIO_METHOD *socket_bio_method;
static pthread_once_t socket_bio_once = PTHREAD_ONCE_INIT;

static void socket_bio_make_method(void) {
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                      "swift-reactor socket");
    if (method == NULL) return;
    BIO_meth_set_write(method, socket_bio_write);
    BIO_meth_set_read(method, socket_bio_read);
    BIO_meth_set_ctrl(method, socket_bio_ctrl);
    BIO_meth_set_create(method, socket_bio_create);
    socket_bio_method = method;
}

static BIO *socket_bio_new(int fd) {
    pthread_once(&socket_bio_once, socket_bio_make_method);
    if (socket_bio_method == NULL) return NULL;
    BIO *bio = BIO_new(socket_bio_method);
    if (bio != NULL) BIO_set_data(bio, (void *)(intptr_t)fd);
    return bio;
}

// MARK: Connections

SSL *CReactorTLS_new(SSL_CTX *ctx, int fd, int is_server, const char *host, int verify_host) {
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL) return NULL;
    BIO *bio = socket_bio_new(fd);
    if (bio == NULL) {
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_bio(ssl, bio, bio);  // one BIO both ways: the connection owns one reference, freed with it
    if (is_server) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
        if (host != NULL && host[0] != 0) {
            ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);
            if (ip == NULL) SSL_set_tlsext_host_name(ssl, host);  // SNI carries names, never addresses (RFC 6066 §3)
            if (verify_host) {
                int ok = ip == NULL ? SSL_set1_host(ssl, host)
                                    : X509_VERIFY_PARAM_set1_ip(SSL_get0_param(ssl), ip->data, (size_t)ip->length);
                if (ok != 1) {
                    ASN1_OCTET_STRING_free(ip);
                    SSL_free(ssl);
                    return NULL;
                }
            }
            ASN1_OCTET_STRING_free(ip);
        }
    }
    return ssl;
}

/// Classifies a failed operation; `saved_errno` is errno right after it.
static CReactorTLS_Status classify(SSL *ssl, int ret, int saved_errno, unsigned long *detail) {
    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ: return CReactorTLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return CReactorTLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: return CReactorTLS_CLOSED;
    case SSL_ERROR_SYSCALL: {
        unsigned long code = ERR_peek_last_error();
        ERR_clear_error();
        if (code != 0) {
            *detail = code;
            return CReactorTLS_PROTOCOL;
        }
        if (saved_errno == 0) return CReactorTLS_EOF;
        *detail = (unsigned long)saved_errno;
        return CReactorTLS_SYSCALL;
    }
    default: {
        unsigned long code = ERR_peek_last_error();
        ERR_clear_error();
        if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return CReactorTLS_EOF;
        *detail = code;
        return CReactorTLS_PROTOCOL;
    }
    }
}

CReactorTLS_Status CReactorTLS_handshake(SSL *ssl, unsigned long *detail) {
    *detail = 0;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_do_handshake(ssl);
    if (ret == 1) return CReactorTLS_OK;
    int saved = errno;
    return classify(ssl, ret, saved, detail);
}

CReactorTLS_Status CReactorTLS_read(SSL *ssl, void *buffer, size_t length, size_t *count, unsigned long *detail) {
    size_t total = 0;
    *detail = 0;
    CReactorTLS_Status status = CReactorTLS_OK;
    while (total < length) {
        size_t got = 0;
        ERR_clear_error();
        errno = 0;
        socket_bio_drained = 0;
        int ret = SSL_read_ex(ssl, (unsigned char *)buffer + total, length - total, &got);
        if (ret == 1) {
            total += got;
            // The socket is empty and OpenSSL holds nothing more: the next SSL_read_ex could only meet EAGAIN.
            if (socket_bio_drained && !SSL_has_pending(ssl)) {
                status = CReactorTLS_WANT_READ;
                break;
            }
            continue;
        }
        status = classify(ssl, ret, errno, detail);
        break;
    }
    *count = total;
    if (flags_of(ssl) & CReactorTLS_FLAG_RENEGOTIATION) return CReactorTLS_RENEGOTIATION;
    return status;
}

CReactorTLS_Status CReactorTLS_write(SSL *ssl, const void *buffer, size_t length, size_t *count,
                                     unsigned long *detail) {
    size_t total = 0;
    *detail = 0;
    CReactorTLS_Status status = CReactorTLS_OK;
    while (total < length) {
        size_t written = 0;
        ERR_clear_error();
        errno = 0;
        // One record per call: a call that cannot finish must be repeated with the same bytes and at least as many,
        // which the loop can guarantee for one record (16 KiB) but not for OpenSSL's multi-record writes (TLS 1.2 CBC
        // "multiblock" writes of 4 or 8 records when offered 64 KiB or more).
        size_t chunk = length - total < SSL3_RT_MAX_PLAIN_LENGTH ? length - total : SSL3_RT_MAX_PLAIN_LENGTH;
        int ret = SSL_write_ex(ssl, (const unsigned char *)buffer + total, chunk, &written);
        if (ret == 1) {
            total += written;
            continue;
        }
        status = classify(ssl, ret, errno, detail);
        break;
    }
    *count = total;
    return status;
}

int CReactorTLS_send_close_notify(SSL *ssl) {
    if (!(flags_of(ssl) & CReactorTLS_FLAG_HANDSHAKE_DONE)) return 1;  // no session to close
    ERR_clear_error();
    if (!SSL_is_init_finished(ssl)) {
        // A post-handshake message is still going out (the KeyUpdate a read answered on a full socket), and OpenSSL
        // refuses to shut down in the middle of one: finish it first, waiting for writability like the alert itself.
        int ret = SSL_do_handshake(ssl);
        if (ret != 1) {
            int wants_write = SSL_get_error(ssl, ret) == SSL_ERROR_WANT_WRITE;
            ERR_clear_error();
            return wants_write ? 0 : 1;
        }
    }
    // The first call queues the alert and tries to send it; a later one (after WANT_WRITE) sends what is left of it.
    int ret = SSL_shutdown(ssl);
    int wants_write = ret < 0 && SSL_get_error(ssl, ret) == SSL_ERROR_WANT_WRITE;
    ERR_clear_error();
    return wants_write ? 0 : 1;
}

void CReactorTLS_alpn(const SSL *ssl, const unsigned char **data, unsigned int *length) {
    SSL_get0_alpn_selected(ssl, data, length);
}

int CReactorTLS_peer_certificate_der(SSL *ssl, unsigned char *buffer, int capacity) {
    X509 *certificate = SSL_get1_peer_certificate(ssl);
    if (certificate == NULL) return -1;
    int size = i2d_X509(certificate, NULL);
    if (buffer != NULL && size > 0 && size <= capacity) {
        unsigned char *cursor = buffer;
        i2d_X509(certificate, &cursor);
    }
    X509_free(certificate);
    return size;
}

// MARK: Errors

int CReactorTLS_error_reason(unsigned long code) { return ERR_GET_REASON(code); }

void CReactorTLS_error_string(unsigned long code, char *buffer, size_t capacity) {
    ERR_error_string_n(code, buffer, capacity);
}

unsigned long CReactorTLS_take_error(void) {
    unsigned long last = 0, code;
    while ((code = ERR_get_error()) != 0) last = code;
    return last;
}

// MARK: The recycling allocator
//
// OpenSSL 3.0 allocates a few small structures for every record it writes or reads (a WPACKET's sub-packet, 40
// bytes, in crypto/packet.c: three per record written, one per record read), and frees them before returning. Served
// from per-thread free lists instead of malloc, those cost no malloc call after warm-up. Blocks carry a 16-byte header
// with their size class; a block freed on another thread joins that thread's list; each list keeps at most
// RECYCLE_CAP blocks (the rest go back to malloc), and a thread's lists are freed when it exits.

enum { RECYCLE_CLASSES = 5, RECYCLE_CAP = 256, RECYCLE_LARGE = 0xFFFF };
static const size_t recycle_size[RECYCLE_CLASSES] = {32, 64, 128, 256, 512};

typedef union {
    uint32_t size_class;
    max_align_t alignment;
} recycle_header;

typedef struct {
    recycle_header *head[RECYCLE_CLASSES];
    unsigned count[RECYCLE_CLASSES];
    int registered;
} recycle_lists;

static __thread recycle_lists thread_lists;
static pthread_key_t recycle_key;

static void recycle_release(void *argument) {
    recycle_lists *lists = argument;
    // Frees made after this (other destructors of the exiting thread) register again, and pthread calls this again.
    lists->registered = 0;
    for (int size_class = 0; size_class < RECYCLE_CLASSES; size_class++) {
        while (lists->head[size_class] != NULL) {
            recycle_header *block = lists->head[size_class];
            lists->head[size_class] = *(recycle_header **)(block + 1);
            free(block);
        }
        lists->count[size_class] = 0;
    }
}

static int recycle_class(size_t size) {
    for (int size_class = 0; size_class < RECYCLE_CLASSES; size_class++)
        if (size <= recycle_size[size_class]) return size_class;
    return -1;
}

static void *recycle_malloc(size_t size, const char *file, int line) {
    (void)file, (void)line;
    int size_class = recycle_class(size);
    if (size_class >= 0) {
        recycle_header *block = thread_lists.head[size_class];
        if (block != NULL) {
            thread_lists.head[size_class] = *(recycle_header **)(block + 1);
            thread_lists.count[size_class]--;
            return block + 1;
        }
        block = malloc(sizeof(recycle_header) + recycle_size[size_class]);
        if (block == NULL) return NULL;
        block->size_class = (uint32_t)size_class;
        return block + 1;
    }
    recycle_header *block = malloc(sizeof(recycle_header) + size);
    if (block == NULL) return NULL;
    block->size_class = RECYCLE_LARGE;
    return block + 1;
}

static void recycle_free(void *pointer, const char *file, int line) {
    (void)file, (void)line;
    if (pointer == NULL) return;
    recycle_header *block = (recycle_header *)pointer - 1;
    uint32_t size_class = block->size_class;
    if (size_class != RECYCLE_LARGE && thread_lists.count[size_class] < RECYCLE_CAP) {
        if (!thread_lists.registered) {
            thread_lists.registered = 1;
            pthread_setspecific(recycle_key, &thread_lists);  // frees this thread's lists when it exits
        }
        *(recycle_header **)(block + 1) = thread_lists.head[size_class];
        thread_lists.head[size_class] = block;
        thread_lists.count[size_class]++;
        return;
    }
    free(block);
}

static void *recycle_realloc(void *pointer, size_t size, const char *file, int line) {
    if (pointer == NULL) return recycle_malloc(size, file, line);
    if (size == 0) {
        recycle_free(pointer, file, line);
        return NULL;
    }
    recycle_header *block = (recycle_header *)pointer - 1;
    if (block->size_class == RECYCLE_LARGE) {
        recycle_header *moved = realloc(block, sizeof(recycle_header) + size);
        return moved == NULL ? NULL : moved + 1;
    }
    size_t capacity = recycle_size[block->size_class];
    if (size <= capacity) return pointer;
    void *grown = recycle_malloc(size, file, line);
    if (grown == NULL) return NULL;
    memcpy(grown, pointer, capacity);
    recycle_free(pointer, file, line);
    return grown;
}

int CReactorTLS_install_recycling_allocator(void) {
    static int installed = -1;
    if (installed >= 0) return installed;
    if (pthread_key_create(&recycle_key, recycle_release) != 0) return installed = 0;
    installed = CRYPTO_set_mem_functions(recycle_malloc, recycle_realloc, recycle_free);
    return installed;
}
