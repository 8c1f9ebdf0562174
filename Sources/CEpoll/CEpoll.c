// CEpoll.c: one-line wrappers; see CEpoll.h. _GNU_SOURCE comes from Package.swift (accept4, MSG_NOSIGNAL).
#ifdef __linux__

#include "CEpoll.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <unistd.h>

_Static_assert(sizeof(uint64_t) == sizeof(epoll_data_t), "epoll data must be 64 bits");

int CEpoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int CEpoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

int CEpoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms) {
    return epoll_wait(epfd, events, maxevents, timeout_ms);
}

uint64_t CEpoll_event_data(const struct epoll_event *events, int index) { return events[index].data.u64; }

uint32_t CEpoll_event_mask(const struct epoll_event *events, int index) { return events[index].events; }

int CEpoll_eventfd_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int CEpoll_eventfd_signal(int fd) {
    uint64_t one = 1;
    return write(fd, &one, sizeof(one)) == (ssize_t)sizeof(one) ? 0 : -1;
}

int CEpoll_eventfd_drain(int fd) {
    uint64_t value;
    return read(fd, &value, sizeof(value)) == (ssize_t)sizeof(value) ? 0 : -1;
}

int CEpoll_accept4(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int CEpoll_socket_stream(int domain) { return socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); }

int CEpoll_setsockopt_int(int fd, int level, int name, int value) {
    return setsockopt(fd, level, name, &value, sizeof(value));
}

int CEpoll_getsockopt_int(int fd, int level, int name, int *value) {
    socklen_t len = sizeof(*value);
    return getsockopt(fd, level, name, value, &len);
}

ssize_t CEpoll_sendv(int fd, const struct iovec *iov, int iovcnt) {
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = (struct iovec *)iov;
    msg.msg_iovlen = (size_t)iovcnt;
    return sendmsg(fd, &msg, MSG_NOSIGNAL);
}

ssize_t CEpoll_send(int fd, const void *buf, size_t len) { return send(fd, buf, len, MSG_NOSIGNAL); }

int CEpoll_tcp_nodelay(int fd, int on) { return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)); }

int CEpoll_bytes_readable(int fd) {
    int count = 0;
    return ioctl(fd, FIONREAD, &count) < 0 ? -1 : count;
}

int CEpoll_bytes_unsent(int fd) {
    int count = 0;
    return ioctl(fd, SIOCOUTQ, &count) < 0 ? -1 : count;
}

int CEpoll_set_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = '\0';
    return pthread_setname_np(pthread_self(), truncated);
}

int CEpoll_set_thread_name_of(pthread_t thread, const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = '\0';
    return pthread_setname_np(thread, truncated);
}

int CEpoll_get_thread_name(char *buffer, size_t size) { return pthread_getname_np(pthread_self(), buffer, size); }

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CEPOLL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CEPOLL_ASAN 1
#endif

void *CEpoll_pages_map(size_t size, size_t alignment) {
#ifdef CEPOLL_ASAN
    return aligned_alloc(alignment, size);
#else
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (alignment <= page) {
        void *pages = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return pages == MAP_FAILED ? NULL : pages;
    }
    // Map enough to contain an aligned run of `size` bytes, then give back the slack on both sides.
    size_t span = size + alignment;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uintptr_t start = ((uintptr_t)raw + alignment - 1) & ~(uintptr_t)(alignment - 1);
    size_t head = start - (uintptr_t)raw;
    size_t tail = span - head - size;
    if (head > 0) munmap(raw, head);
    if (tail > 0) munmap((char *)start + size, tail);
    return (void *)start;
#endif
}

void CEpoll_pages_unmap(void *pages, size_t size) {
#ifdef CEPOLL_ASAN
    (void)size;
    free(pages);
#else
    munmap(pages, size);
#endif
}

#endif // __linux__
