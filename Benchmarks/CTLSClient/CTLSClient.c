#include "CTLSClient.h"

#include <openssl/ssl.h>
#include <signal.h>

struct CTLSClient {
    SSL_CTX *context;
    SSL *ssl;
};

CTLSClient *CTLSClient_connect(int fd) {
    signal(SIGPIPE, SIG_IGN);  // OpenSSL's socket BIO writes with write(2)
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (context == NULL) return NULL;
    SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION);
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, NULL);
    SSL *ssl = SSL_new(context);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
        SSL_free(ssl);
        SSL_CTX_free(context);
        return NULL;
    }
    CTLSClient *client = OPENSSL_malloc(sizeof(CTLSClient));
    client->context = context;
    client->ssl = ssl;
    return client;
}

int CTLSClient_write_all(CTLSClient *client, const void *data, size_t length) {
    size_t done = 0;
    while (done < length) {
        size_t written = 0;
        if (SSL_write_ex(client->ssl, (const char *)data + done, length - done, &written) != 1) return -1;
        done += written;
    }
    return 0;
}

int CTLSClient_read_exactly(CTLSClient *client, void *data, size_t length) {
    size_t done = 0;
    while (done < length) {
        size_t read = 0;
        if (SSL_read_ex(client->ssl, (char *)data + done, length - done, &read) != 1) return -1;
        done += read;
    }
    return 0;
}

void CTLSClient_free(CTLSClient *client) {
    if (client == NULL) return;
    SSL_shutdown(client->ssl);
    SSL_free(client->ssl);
    SSL_CTX_free(client->context);
    OPENSSL_free(client);
}
