// TLSReadPathFuzzer's side of OpenSSL: the server's throwaway identity, made in-process at start (no key is ever
// committed), and the fuzzer's TLS client, an OpenSSL client over memory BIOs whose records the fuzzer carries to the
// server's socket itself (so it can cut, corrupt, or replace them on the way). OpenSSL's setters are macros Swift
// cannot call, hence C.
#ifndef CTLSFUZZSUPPORT_H
#define CTLSFUZZSUPPORT_H

#include <stddef.h>
#include <openssl/ssl.h>

/// What a client step ended with.
typedef enum {
    /// Done: the handshake completed, or bytes were read (see the count).
    CTLSFuzz_OK = 0,
    /// Needs bytes from the server that have not arrived yet.
    CTLSFuzz_WANT_READ = 1,
    /// The server's close_notify was read: its output ended cleanly.
    CTLSFuzz_CLOSED = 2,
    /// The client failed (an alert from the server, a bad record, the server's EOF without close_notify); the
    /// detail is OpenSSL's packed error code.
    CTLSFuzz_FAILED = 3,
} CTLSFuzz_Status;

/// A fresh EC P-256 key and a self-signed certificate for it (CN=localhost, valid from an hour ago for 30 days),
/// as NUL-terminated PEM text in `*certificate` and `*key` (malloc'd; free them with free). 1 on success.
int CTLSFuzz_make_identity(char **certificate, char **key);

/// The client context every input's client comes from: no certificate verification (the server's certificate is
/// the throwaway one), no session cache, no tickets asked for.
SSL_CTX *CTLSFuzz_client_context_new(void);

/// A client on a pair of memory BIOs, speaking only `version` (TLS1_2_VERSION or TLS1_3_VERSION), with the TLS 1.2
/// cipher list or the TLS 1.3 suites given (NULL: OpenSSL's default) and, when `no_encrypt_then_mac`, CBC suites
/// with MAC-then-encrypt. NULL on failure.
SSL *CTLSFuzz_client_new(SSL_CTX *ctx, int version, const char *cipher_list, const char *cipher_suites,
                         int no_encrypt_then_mac);
/// Frees the client and its BIOs.
void CTLSFuzz_client_free(SSL *ssl);
/// The protocol version the client negotiated (TLS1_2_VERSION, TLS1_3_VERSION).
int CTLSFuzz_client_version(const SSL *ssl);

/// The client's session, to resume (a new reference: free it with CTLSFuzz_session_free), if it can be resumed (TLS
/// 1.3: once a NewSessionTicket was read); NULL otherwise.
SSL_SESSION *CTLSFuzz_client_resumable_session(SSL *ssl);
/// Offers `session` in the next handshake (before the first step). 1 on success.
int CTLSFuzz_client_set_session(SSL *ssl, SSL_SESSION *session);
/// Whether the handshake resumed the session offered.
int CTLSFuzz_client_resumed(const SSL *ssl);
/// Drops a reference to a session.
void CTLSFuzz_session_free(SSL_SESSION *session);

/// One handshake step (its output is left in the client's output BIO).
CTLSFuzz_Status CTLSFuzz_client_handshake(SSL *ssl, unsigned long *detail);
/// Encrypts `length` plaintext bytes (records of up to 16 KiB) into the output BIO. 1 on success.
int CTLSFuzz_client_write(SSL *ssl, const void *data, size_t length);
/// Queues close_notify in the output BIO. 1 on success.
int CTLSFuzz_client_close_notify(SSL *ssl);
/// TLS 1.2: starts a renegotiation (its ClientHello goes into the output BIO). 1 if the ClientHello was written.
int CTLSFuzz_client_renegotiate(SSL *ssl);
/// TLS 1.3: sends a KeyUpdate (asking the server to update its keys too when `requested`). 1 on success.
int CTLSFuzz_client_key_update(SSL *ssl, int requested);

/// Bytes waiting in the client's output BIO.
size_t CTLSFuzz_client_output_pending(SSL *ssl);
/// Takes up to `capacity` bytes of the client's output; returns how many.
size_t CTLSFuzz_client_take_output(SSL *ssl, void *buffer, size_t capacity);
/// Hands the client bytes that came from the server.
void CTLSFuzz_client_give_input(SSL *ssl, const void *data, size_t length);
/// The server's end of the stream: once the bytes given are used up, reads see EOF instead of "retry".
void CTLSFuzz_client_input_ended(SSL *ssl);
/// Reads plaintext (the server's echo) into `buffer`: up to `capacity` bytes, `*count` of them.
CTLSFuzz_Status CTLSFuzz_client_read(SSL *ssl, void *buffer, size_t capacity, size_t *count, unsigned long *detail);

/// Reason codes the checks tell apart: a write retried with fewer bytes than the record OpenSSL has pending; the
/// peer's end of stream without close_notify.
static const int CTLSFuzz_R_BAD_LENGTH = SSL_R_BAD_LENGTH;
static const int CTLSFuzz_R_UNEXPECTED_EOF = SSL_R_UNEXPECTED_EOF_WHILE_READING;

/// The reason part of a packed error code.
int CTLSFuzz_error_reason(unsigned long code);
/// OpenSSL's text for a packed error code.
void CTLSFuzz_error_string(unsigned long code, char *buffer, size_t capacity);

#endif
