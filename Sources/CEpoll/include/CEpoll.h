// CEpoll: the thin C shim under ReactorCore.
//
// It exposes exactly what Swift cannot call cleanly on Linux: epoll with the event's u64 data,
// eventfd, accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC, sendmsg(MSG_NOSIGNAL) over an iovec array,
// and the EPOLL* flags as plain uint32_t values (Glibc imports them as an enum).
// No policy lives here: every function returns -1 with errno intact, exactly like the syscall.
// _GNU_SOURCE is defined by Package.swift for CEpoll.c only; defining it here breaks the Glibc import.
#ifndef CEPOLL_H
#define CEPOLL_H

#ifdef __linux__

#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

// MARK: epoll flags as plain values
static const uint32_t CEpoll_EPOLLIN = EPOLLIN;
static const uint32_t CEpoll_EPOLLOUT = EPOLLOUT;
static const uint32_t CEpoll_EPOLLERR = EPOLLERR;
static const uint32_t CEpoll_EPOLLHUP = EPOLLHUP;
static const uint32_t CEpoll_EPOLLRDHUP = EPOLLRDHUP;

static const int CEpoll_CTL_ADD = EPOLL_CTL_ADD;
static const int CEpoll_CTL_MOD = EPOLL_CTL_MOD;
static const int CEpoll_CTL_DEL = EPOLL_CTL_DEL;

// MARK: epoll
/// epoll_create1(EPOLL_CLOEXEC).
int CEpoll_create(void);
/// epoll_ctl carrying `data` in the event's u64 field.
int CEpoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
/// epoll_wait into a caller-owned array.
int CEpoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms);
/// The u64 data of events[index] (the struct is packed on x86_64, so Swift reads it through here).
uint64_t CEpoll_event_data(const struct epoll_event *events, int index);
/// The event mask of events[index].
uint32_t CEpoll_event_mask(const struct epoll_event *events, int index);

// MARK: eventfd
/// eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC).
int CEpoll_eventfd_create(void);
/// Adds 1 to the eventfd counter (wakes a waiting epoll).
int CEpoll_eventfd_signal(int fd);
/// Reads (and so resets) the eventfd counter.
int CEpoll_eventfd_drain(int fd);

// MARK: sockets
/// accept4(fd, addr, len, SOCK_NONBLOCK|SOCK_CLOEXEC).
int CEpoll_accept4(int fd, struct sockaddr *addr, socklen_t *len);
/// socket(domain, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0).
int CEpoll_socket_stream(int domain);
/// setsockopt with an int value.
int CEpoll_setsockopt_int(int fd, int level, int name, int value);
/// getsockopt with an int value.
int CEpoll_getsockopt_int(int fd, int level, int name, int *value);
/// sendmsg(fd, {iov, iovcnt}, MSG_NOSIGNAL): writev that never raises SIGPIPE.
ssize_t CEpoll_sendv(int fd, const struct iovec *iov, int iovcnt);
/// send(fd, buf, len, MSG_NOSIGNAL).
ssize_t CEpoll_send(int fd, const void *buf, size_t len);

// MARK: socket option names (macros in C)
static const int CEpoll_SOL_SOCKET = SOL_SOCKET;
static const int CEpoll_SO_ERROR = SO_ERROR;
int CEpoll_tcp_nodelay(int fd, int on);
/// Bytes waiting in the socket's receive queue (`ioctl(FIONREAD)`), or -1 with errno set.
int CEpoll_bytes_readable(int fd);
/// SIOCOUTQ: bytes in the socket's send queue (not yet sent, or sent and not yet acknowledged); -1 on error.
int CEpoll_bytes_unsent(int fd);

// MARK: threads
/// Names the calling thread (at most 15 characters are kept), for ps/top/gdb.
int CEpoll_set_thread_name(const char *name);
/// Names `thread` (from any thread), so the name is in place before the thread runs any code.
int CEpoll_set_thread_name_of(pthread_t thread, const char *name);
/// Copies the calling thread's name into `buffer` (16 bytes are enough). Does not allocate.
int CEpoll_get_thread_name(char *buffer, size_t size);

// MARK: memory
/// Maps `size` bytes (a multiple of the page size) of private read-write memory whose start is a multiple of
/// `alignment` (a power of two), or returns NULL with errno set. Memory mapped here goes back to the system at
/// CEpoll_pages_unmap, unlike freed heap memory, which glibc may keep. Under AddressSanitizer it is aligned_alloc
/// and free instead, so ASan still sees overflows past a mapping and leaks of one.
void *CEpoll_pages_map(size_t size, size_t alignment);
/// Gives back a mapping made by CEpoll_pages_map with the same `size`.
void CEpoll_pages_unmap(void *pages, size_t size);

#endif // __linux__
#endif // CEPOLL_H
