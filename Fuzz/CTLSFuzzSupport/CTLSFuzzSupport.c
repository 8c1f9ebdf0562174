#include "CTLSFuzzSupport.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

// MARK: The server's identity

/// The contents of a memory BIO as a malloc'd NUL-terminated string, or NULL.
static char *bio_text(BIO *bio) {
    char *data = NULL;
    long length = BIO_get_mem_data(bio, &data);
    if (length <= 0) return NULL;
    char *text = malloc((size_t)length + 1);
    if (text == NULL) return NULL;
    memcpy(text, data, (size_t)length);
    text[length] = 0;
    return text;
}

int CTLSFuzz_make_identity(char **certificate, char **key) {
    *certificate = NULL;
    *key = NULL;
    int ok = 0;
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x509 = X509_new();
    BIO *cert_bio = BIO_new(BIO_s_mem());
    BIO *key_bio = BIO_new(BIO_s_mem());
    if (pkey == NULL || x509 == NULL || cert_bio == NULL || key_bio == NULL) goto done;
    X509_NAME *name = X509_get_subject_name(x509);
    if (X509_set_version(x509, X509_VERSION_3) != 1 || ASN1_INTEGER_set(X509_get_serialNumber(x509), 1) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(x509), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(x509), 30L * 24 * 3600) == NULL || X509_set_pubkey(x509, pkey) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0) != 1 ||
        X509_set_issuer_name(x509, name) != 1 || X509_sign(x509, pkey, EVP_sha256()) <= 0)
        goto done;
    if (PEM_write_bio_X509(cert_bio, x509) != 1 ||
        PEM_write_bio_PrivateKey(key_bio, pkey, NULL, NULL, 0, NULL, NULL) != 1)
        goto done;
    *certificate = bio_text(cert_bio);
    *key = bio_text(key_bio);
    ok = *certificate != NULL && *key != NULL;
    if (!ok) {
        free(*certificate);
        free(*key);
        *certificate = *key = NULL;
    }
done:
    BIO_free(cert_bio);
    BIO_free(key_bio);
    X509_free(x509);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return ok;
}

// MARK: The client

SSL_CTX *CTLSFuzz_client_context_new(void) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) return NULL;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    return ctx;
}

SSL *CTLSFuzz_client_new(SSL_CTX *ctx, int version, const char *cipher_list, const char *cipher_suites,
                         int no_encrypt_then_mac) {
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL) return NULL;
    BIO *in = BIO_new(BIO_s_mem());
    BIO *out = BIO_new(BIO_s_mem());
    if (in == NULL || out == NULL) {
        BIO_free(in);
        BIO_free(out);
        SSL_free(ssl);
        return NULL;
    }
    BIO_set_mem_eof_return(in, -1);  // empty: "retry" until the server's end of stream
    SSL_set_bio(ssl, in, out);       // the SSL owns both from here
    SSL_set_connect_state(ssl);
    if (SSL_set_min_proto_version(ssl, version) != 1 || SSL_set_max_proto_version(ssl, version) != 1 ||
        (cipher_list != NULL && SSL_set_cipher_list(ssl, cipher_list) != 1) ||
        (cipher_suites != NULL && SSL_set_ciphersuites(ssl, cipher_suites) != 1)) {
        SSL_free(ssl);
        ERR_clear_error();
        return NULL;
    }
    if (no_encrypt_then_mac) SSL_set_options(ssl, SSL_OP_NO_ENCRYPT_THEN_MAC);
    return ssl;
}

void CTLSFuzz_client_free(SSL *ssl) { SSL_free(ssl); }

int CTLSFuzz_client_version(const SSL *ssl) { return SSL_version(ssl); }

SSL_SESSION *CTLSFuzz_client_resumable_session(SSL *ssl) {
    SSL_SESSION *session = SSL_get1_session(ssl);
    if (session != NULL && !SSL_SESSION_is_resumable(session)) {
        SSL_SESSION_free(session);
        return NULL;
    }
    return session;
}

int CTLSFuzz_client_set_session(SSL *ssl, SSL_SESSION *session) { return SSL_set_session(ssl, session); }

int CTLSFuzz_client_resumed(const SSL *ssl) { return SSL_session_reused(ssl); }

void CTLSFuzz_session_free(SSL_SESSION *session) { SSL_SESSION_free(session); }

static CTLSFuzz_Status classify(SSL *ssl, int ret, unsigned long *detail) {
    int error = SSL_get_error(ssl, ret);
    unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    switch (error) {
    case SSL_ERROR_WANT_READ: return CTLSFuzz_WANT_READ;
    case SSL_ERROR_ZERO_RETURN: return CTLSFuzz_CLOSED;
    default:
        *detail = code;
        return CTLSFuzz_FAILED;
    }
}

CTLSFuzz_Status CTLSFuzz_client_handshake(SSL *ssl, unsigned long *detail) {
    *detail = 0;
    ERR_clear_error();
    int ret = SSL_do_handshake(ssl);
    if (ret == 1) return CTLSFuzz_OK;
    return classify(ssl, ret, detail);
}

int CTLSFuzz_client_write(SSL *ssl, const void *data, size_t length) {
    size_t written = 0;
    ERR_clear_error();
    int ok = SSL_write_ex(ssl, data, length, &written) == 1 && written == length;
    ERR_clear_error();
    return ok;
}

int CTLSFuzz_client_close_notify(SSL *ssl) {
    ERR_clear_error();
    int ret = SSL_shutdown(ssl);  // 0: sent, the server's not received yet
    ERR_clear_error();
    return ret >= 0;
}

int CTLSFuzz_client_renegotiate(SSL *ssl) {
    ERR_clear_error();
    size_t before = BIO_ctrl_pending(SSL_get_wbio(ssl));
    int ok = SSL_renegotiate(ssl) == 1;
    if (ok) (void)SSL_do_handshake(ssl);  // writes the ClientHello, then wants the server's answer
    ERR_clear_error();
    return ok && BIO_ctrl_pending(SSL_get_wbio(ssl)) > before;
}

int CTLSFuzz_client_key_update(SSL *ssl, int requested) {
    ERR_clear_error();
    int ok = SSL_key_update(ssl, requested ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED) == 1 &&
             SSL_do_handshake(ssl) == 1;  // sends the KeyUpdate message now
    ERR_clear_error();
    return ok;
}

size_t CTLSFuzz_client_output_pending(SSL *ssl) { return BIO_ctrl_pending(SSL_get_wbio(ssl)); }

size_t CTLSFuzz_client_take_output(SSL *ssl, void *buffer, size_t capacity) {
    size_t taken = 0;
    if (capacity == 0 || BIO_read_ex(SSL_get_wbio(ssl), buffer, capacity, &taken) != 1) return 0;
    return taken;
}

void CTLSFuzz_client_give_input(SSL *ssl, const void *data, size_t length) {
    size_t written = 0;
    if (length > 0) (void)BIO_write_ex(SSL_get_rbio(ssl), data, length, &written);  // a memory BIO takes all
}

void CTLSFuzz_client_input_ended(SSL *ssl) { BIO_set_mem_eof_return(SSL_get_rbio(ssl), 0); }

CTLSFuzz_Status CTLSFuzz_client_read(SSL *ssl, void *buffer, size_t capacity, size_t *count, unsigned long *detail) {
    *count = 0;
    *detail = 0;
    ERR_clear_error();
    int ret = SSL_read_ex(ssl, buffer, capacity, count);
    if (ret == 1) return CTLSFuzz_OK;
    return classify(ssl, ret, detail);
}

// MARK: Errors

int CTLSFuzz_error_reason(unsigned long code) { return ERR_GET_REASON(code); }

void CTLSFuzz_error_string(unsigned long code, char *buffer, size_t capacity) {
    ERR_error_string_n(code, buffer, capacity);
}
