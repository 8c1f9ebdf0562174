// A blocking TLS client for the allocation gate's TLS benchmarks: OpenSSL on a connected blocking socket. Its own
// allocations count in the benchmark's malloc total too, so it keeps its record buffers (no SSL_MODE_RELEASE_BUFFERS)
// and allocates nothing per exchange once connected.
#ifndef CTLSCLIENT_H
#define CTLSCLIENT_H

#include <stddef.h>

typedef struct CTLSClient CTLSClient;

/// Completes a handshake (TLS 1.3, no certificate check: a benchmark peer) on the connected socket `fd`; NULL on
/// failure.
CTLSClient *CTLSClient_connect(int fd);
/// Writes all `length` bytes; 0 on success.
int CTLSClient_write_all(CTLSClient *client, const void *data, size_t length);
/// Reads exactly `length` bytes; 0 on success.
int CTLSClient_read_exactly(CTLSClient *client, void *data, size_t length);
/// Sends close_notify and frees the session (not the socket).
void CTLSClient_free(CTLSClient *client);

#endif
