// CReactorTLS: the thin C shim between ReactorTLS and the system OpenSSL 3 (libssl, libcrypto).
//
// It exposes what Swift cannot call directly (OpenSSL's function-like macros: SSL_CTX_set_mode,
// SSL_CTX_set_min_proto_version, SSL_set_tlsext_host_name, ...), the two callbacks that must be C (ALPN selection
// and the info callback that spots a refused renegotiation), and one call per TLS operation that clears the thread's
// error queue, runs the operation and classifies the outcome (SSL_get_error plus the reason code), so the Swift side
// makes one call per read, write or handshake step. No policy lives here beyond that classification.
#ifndef CREACTORTLS_H
#define CREACTORTLS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

// MARK: The outcome of one operation

/// What a read, write, handshake or shutdown step ended with.
typedef enum {
    /// Done (handshake complete, or bytes moved: see the count).
    CReactorTLS_OK = 0,
    /// Needs the socket readable first.
    CReactorTLS_WANT_READ = 1,
    /// Needs the socket writable first.
    CReactorTLS_WANT_WRITE = 2,
    /// The peer sent close_notify: a clean end of its input.
    CReactorTLS_CLOSED = 3,
    /// The socket reached EOF without close_notify (a possible truncation attack).
    CReactorTLS_EOF = 4,
    /// A system call failed; the detail is the errno.
    CReactorTLS_SYSCALL = 5,
    /// TLS failed (bad record, handshake failure, alert); the detail is OpenSSL's packed error code.
    CReactorTLS_PROTOCOL = 6,
    /// A refused renegotiation (TLS 1.2 ClientHello after the handshake) was seen.
    CReactorTLS_RENEGOTIATION = 7,
} CReactorTLS_Status;

/// Bits kept per connection by the info callback (read with CReactorTLS_flags).
static const unsigned int CReactorTLS_FLAG_HANDSHAKE_DONE = 1;
static const unsigned int CReactorTLS_FLAG_RENEGOTIATION = 2;

// MARK: Contexts

/// A new server (is_server != 0) or client context with the framework's fixed settings: read-ahead, partial and
/// moving-buffer writes, no renegotiation, no compression, the info callback, TLS 1.2 at least. NULL on failure.
SSL_CTX *CReactorTLS_context_new(int is_server);
/// Minimum and maximum protocol versions (TLS1_2_VERSION, TLS1_3_VERSION; 0 = no maximum). 1 on success.
int CReactorTLS_set_versions(SSL_CTX *ctx, int min_version, int max_version);
/// SSL_MODE_RELEASE_BUFFERS on or off.
void CReactorTLS_set_release_buffers(SSL_CTX *ctx, int on);
/// Session tickets on (`tickets` new tickets after a TLS 1.3 handshake) or off; the stateful cache stays off.
void CReactorTLS_set_tickets(SSL_CTX *ctx, int on, size_t tickets);
/// The server's ALPN preference list in wire format (length-prefixed names), copied into the context. A client
/// offering none of them gets the no_application_protocol alert (RFC 7301 §3.2). 1 on success.
int CReactorTLS_set_alpn_server(SSL_CTX *ctx, const unsigned char *wire, unsigned int length);
/// The certificate chain (leaf first) from PEM text in memory. 1 on success.
int CReactorTLS_use_certificate_chain_pem(SSL_CTX *ctx, const char *pem, size_t length);
/// The private key from PEM text in memory. 1 on success.
int CReactorTLS_use_private_key_pem(SSL_CTX *ctx, const char *pem, size_t length);
/// The SNI callback, OpenSSL's servername callback: returns SSL_TLSEXT_ERR_OK (it may have switched the
/// connection's context with SSL_set_SSL_CTX), SSL_TLSEXT_ERR_NOACK, or SSL_TLSEXT_ERR_ALERT_FATAL with `*alert`.
void CReactorTLS_set_servername_callback(SSL_CTX *ctx, int (*callback)(SSL *ssl, int *alert, void *arg), void *arg);
/// The server name the client sent, or NULL.
const char *CReactorTLS_servername(const SSL *ssl);

// MARK: Connections

/// A new connection reading and writing `fd` through the shim's socket BIO (read(2), and send(2) with MSG_NOSIGNAL:
/// never SIGPIPE), on the server side if `is_server`; `host` (client side, may be NULL) is sent as
/// SNI and, when `verify_host` is set, checked against the peer's certificate. NULL on failure.
SSL *CReactorTLS_new(SSL_CTX *ctx, int fd, int is_server, const char *host, int verify_host);
/// One handshake step.
CReactorTLS_Status CReactorTLS_handshake(SSL *ssl, unsigned long *detail);
/// Reads plaintext into `buffer` (up to `length` bytes) until it is full or nothing is buffered in OpenSSL any
/// more; `*count` is how many bytes arrived (possibly some with a non-OK status: use them first).
CReactorTLS_Status CReactorTLS_read(SSL *ssl, void *buffer, size_t length, size_t *count, unsigned long *detail);
/// Writes plaintext, one record (at most 16 KiB) per SSL_write call, until all is written or the socket would block;
/// `*count` is how many bytes OpenSSL reported taken. After WANT_WRITE, the next call must offer the same bytes
/// from the first one not counted, at least 16 KiB of them (or all there are).
CReactorTLS_Status CReactorTLS_write(SSL *ssl, const void *buffer, size_t length, size_t *count,
                                     unsigned long *detail);
/// Sends close_notify (nothing if the handshake never completed), after finishing a post-handshake message still
/// going out: 1 when it is out (or there is nothing to send), 0 when the socket is full (call again once it is
/// writable: the rest goes then).
int CReactorTLS_send_close_notify(SSL *ssl);
/// Whether OpenSSL holds received bytes not read yet (decrypted, or records not yet processed).
int CReactorTLS_has_pending(const SSL *ssl);
/// The info callback's flags.
unsigned int CReactorTLS_flags(const SSL *ssl);
/// The negotiated ALPN protocol (`*length` 0 if none).
void CReactorTLS_alpn(const SSL *ssl, const unsigned char **data, unsigned int *length);
/// The peer's certificate as DER into `buffer` (NULL to ask the size); -1 if there is none.
int CReactorTLS_peer_certificate_der(SSL *ssl, unsigned char *buffer, int capacity);

// MARK: Reason codes the Swift side classifies by

static const int CReactorTLS_R_CERTIFICATE_VERIFY_FAILED = SSL_R_CERTIFICATE_VERIFY_FAILED;
static const int CReactorTLS_R_PEER_DID_NOT_RETURN_A_CERTIFICATE = SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE;
static const int CReactorTLS_R_ENCRYPTED_LENGTH_TOO_LONG = SSL_R_ENCRYPTED_LENGTH_TOO_LONG;
static const int CReactorTLS_R_DATA_LENGTH_TOO_LONG = SSL_R_DATA_LENGTH_TOO_LONG;
static const int CReactorTLS_R_PACKET_LENGTH_TOO_LONG = SSL_R_PACKET_LENGTH_TOO_LONG;
static const int CReactorTLS_R_RECORD_OVERFLOW = SSL_AD_REASON_OFFSET + SSL_AD_RECORD_OVERFLOW;
static const int CReactorTLS_R_HTTP_REQUEST = SSL_R_HTTP_REQUEST;
static const int CReactorTLS_R_HTTPS_PROXY_REQUEST = SSL_R_HTTPS_PROXY_REQUEST;
static const int CReactorTLS_R_WRONG_VERSION_NUMBER = SSL_R_WRONG_VERSION_NUMBER;

/// SSL_OP_NO_RENEGOTIATION (a function-like macro in OpenSSL's headers), for tests that must allow it.
static const uint64_t CReactorTLS_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;

/// The reason part of a packed error code.
int CReactorTLS_error_reason(unsigned long code);
/// OpenSSL's text for a packed error code into `buffer`.
void CReactorTLS_error_string(unsigned long code, char *buffer, size_t capacity);
/// Drains the thread's error queue and returns its last code (0 if empty): for errors outside an operation
/// (loading a certificate).
unsigned long CReactorTLS_take_error(void);

// MARK: Memory

/// Serves OpenSSL's small allocations (up to 512 bytes) from per-thread free lists (CRYPTO_set_mem_functions), so
/// the few structures OpenSSL 3.0 allocates and frees for every record cost no malloc call. Works only before OpenSSL
/// has allocated anything in the process: returns 1 if installed (now or earlier), 0 if it was too late. Not
/// thread-safe: call it once, at the start of main.
int CReactorTLS_install_recycling_allocator(void);

#endif
