/*
 * echo_server.c - minimal Linux epoll framed echo server, the C performance
 * reference for swift-reactor benchmarks.
 *
 * Protocol: frame = 4-byte big-endian length N, then N payload bytes (N may be
 * 0). Every request frame is answered with a frame holding the same payload.
 *
 *   cc -O2 -Wall -Wextra -std=gnu11 -pthread -o echo_server echo_server.c
 *   echo_server --host 127.0.0.1 --port 9000 [--threads 1] [--max-frame 1048576]
 *
 * Design: one level-triggered epoll loop per thread, each thread with its own
 * SO_REUSEPORT listener (the kernel spreads connections, no shared state).
 * Each read goes into a per-thread 64 KiB scratch buffer; complete frames are
 * decoded in place and their replies appended to an output buffer, which is
 * flushed with a single send() after every read. Per-connection input/output
 * buffers exist only while a partial frame or unsent output exists, so an idle
 * connection costs one 24-byte struct (a 32-byte malloc chunk).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define SCRATCH_SIZE   (64u * 1024)
#define HIGH_WATER     (4u * 1024 * 1024) /* pending output that pauses reading */
#define LOW_WATER      (1u * 1024 * 1024) /* ...and the level that resumes it */
#define MAX_EVENTS     256
#define READS_PER_WAKE 8  /* bound per-connection work per wakeup (fairness) */
#define BACKLOG        4096
#define MAX_FRAME_CAP  (1u << 30) /* keeps every buffer size within uint32_t */

/* A byte buffer; live bytes are data[off, off + len). */
typedef struct {
    uint32_t off, len, cap;
    uint8_t data[];
} buf_t;

/* Connection flags: the epoll interest currently registered, plus "peer sent
 * EOF, close once output drains". */
enum { W_IN = 1, W_OUT = 2, CLOSING = 4 };

struct conn {
    buf_t *in;  /* trailing partial frame, NULL when none */
    buf_t *out; /* unsent replies, NULL when none */
    int fd;
    uint8_t flags;
};

struct worker {
    pthread_t tid;
    int epfd, lfd, sigfd; /* sigfd only on worker 0, else -1 */
    int spare;            /* reserved fd, released to shed connections on EMFILE */
    uint8_t *scratch;
    buf_t *tob; /* per-thread reply buffer, used while the connection has no backlog */
    struct epoll_event events[MAX_EVENTS];
};

static uint32_t g_max_frame = 1048576;
static int g_stopfd = -1; /* eventfd: becomes readable once to stop every worker */

/* epoll data.ptr tags for the non-connection fds */
static char TAG_LISTEN, TAG_STOP, TAG_SIGNAL;

static void die(const char *what) {
    perror(what);
    exit(2);
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Make room for `extra` more bytes in *bp (allocating it if NULL), growing
 * at least geometrically so repeated appends stay amortised O(1). */
static int buf_reserve(buf_t **bp, size_t extra) {
    buf_t *b = *bp;
    size_t len = b ? b->len : 0;
    if (b && (size_t)b->off + len + extra <= b->cap) return 0;
    if (b && b->off) { /* slide live bytes to the front first */
        memmove(b->data, b->data + b->off, len);
        b->off = 0;
        if (len + extra <= b->cap) return 0;
    }
    size_t cap = b ? (size_t)b->cap * 2 : 64;
    if (cap < len + extra) cap = len + extra;
    if (cap > UINT32_MAX) return -1;
    buf_t *nb = realloc(b, sizeof(buf_t) + cap);
    if (nb == NULL) return -1;
    if (b == NULL) nb->off = nb->len = 0;
    nb->cap = (uint32_t)cap;
    *bp = nb;
    return 0;
}

static int buf_append(buf_t **bp, const void *src, size_t n) {
    if (buf_reserve(bp, n) < 0) return -1;
    buf_t *b = *bp;
    memcpy(b->data + b->off + b->len, src, n);
    b->len += (uint32_t)n;
    return 0;
}

static void conn_close(struct conn *c) {
    close(c->fd); /* also removes it from the epoll set */
    free(c->in);
    free(c->out);
    free(c);
}

/* Decode every complete frame in p[0, n) (preceded by any saved partial frame)
 * and append the replies; keep a trailing partial frame in c->in. */
static int decode(struct worker *w, struct conn *c, const uint8_t *p, size_t n) {
    /* Once a backlog exists, new replies must queue behind it. */
    buf_t **dst = c->out ? &c->out : &w->tob;

    if (c->in) {
        if (c->in->len < 4) {
            size_t take = 4 - c->in->len < n ? 4 - c->in->len : n;
            if (buf_append(&c->in, p, take) < 0) return -1;
            p += take, n -= take;
            if (c->in->len < 4) return 0;
            uint32_t flen = be32(c->in->data);
            /* Header complete: size the buffer for the whole frame at once. */
            if (flen > g_max_frame || buf_reserve(&c->in, flen) < 0) return -1;
        }
        size_t need = 4 + (size_t)be32(c->in->data) - c->in->len;
        size_t take = need < n ? need : n;
        if (take && buf_append(&c->in, p, take) < 0) return -1;
        p += take, n -= take;
        if (take < need) return 0;
        if (buf_append(dst, c->in->data, c->in->len) < 0) return -1;
        free(c->in);
        c->in = NULL;
    }
    while (n >= 4) {
        uint32_t flen = be32(p);
        if (flen > g_max_frame) return -1;
        if (n - 4 < flen) break;
        /* The reply is byte-identical to the request frame: copy it whole. */
        if (buf_append(dst, p, 4 + (size_t)flen) < 0) return -1;
        p += 4 + (size_t)flen, n -= 4 + (size_t)flen;
    }
    if (n) {
        /* Size the partial-frame buffer for the whole frame when the header is
         * known, so a large frame is assembled with a single allocation. */
        size_t want = n >= 4 ? 4 + (size_t)be32(p) : 64;
        if (buf_reserve(&c->in, want) < 0) return -1;
        buf_append(&c->in, p, n); /* fits, cannot fail */
    }
    return 0;
}

/* One send() of whatever is pending; a remainder left in the per-thread buffer
 * moves into the connection's own output buffer. */
static int flush(struct worker *w, struct conn *c) {
    buf_t *b = c->out ? c->out : w->tob;
    if (b->len == 0) return 0;
    ssize_t k = send(c->fd, b->data + b->off, b->len, MSG_NOSIGNAL);
    if (k < 0) {
        if (errno != EAGAIN && errno != EINTR) return -1;
        k = 0;
    }
    b->off += (uint32_t)k, b->len -= (uint32_t)k;
    if (b == w->tob) {
        const uint8_t *rest = b->data + b->off;
        uint32_t n = b->len;
        b->off = b->len = 0; /* the bytes stay valid until the next decode */
        return n ? buf_append(&c->out, rest, n) : 0;
    }
    if (b->len == 0) { /* fully drained: give the memory back */
        free(c->out);
        c->out = NULL;
    }
    return 0;
}

/* Re-derive the epoll interest from the connection state. Returns 1 when the
 * connection is finished (EOF seen and output drained), -1 on error. */
static int update_interest(struct worker *w, struct conn *c) {
    uint32_t pending = c->out ? c->out->len : 0;
    if ((c->flags & CLOSING) && pending == 0) return 1;
    uint8_t want = c->flags & W_IN;
    if (c->flags & CLOSING) want = 0;
    else if (want && pending > HIGH_WATER) want = 0; /* peer isn't reading: stop */
    else if (!want && pending < LOW_WATER) want = W_IN;
    if (pending) want |= W_OUT;
    if (want == (c->flags & (W_IN | W_OUT))) return 0;
    struct epoll_event ev = {
        .events = (want & W_IN ? EPOLLIN : 0) | (want & W_OUT ? EPOLLOUT : 0),
        .data.ptr = c,
    };
    if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) return -1;
    c->flags = (c->flags & ~(W_IN | W_OUT)) | want;
    return 0;
}

static int on_readable(struct worker *w, struct conn *c) {
    for (int i = 0; i < READS_PER_WAKE; i++) {
        ssize_t n = read(c->fd, w->scratch, SCRATCH_SIZE);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            return -1;
        }
        if (n == 0) { /* peer EOF: replies already queued still get sent */
            c->flags |= CLOSING;
            break;
        }
        w->tob->off = w->tob->len = 0;
        if (decode(w, c, w->scratch, (size_t)n) < 0 || flush(w, c) < 0) return -1;
        /* A short read means the socket is (probably) drained; a backlog means
         * the peer is slow, so let update_interest decide on reading more. */
        if ((size_t)n < SCRATCH_SIZE || c->out) break;
    }
    return update_interest(w, c);
}

static void on_accept(struct worker *w) {
    for (;;) {
        int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if ((errno == EMFILE || errno == ENFILE) && w->spare >= 0) {
                /* Out of fds: the pending connection would keep the
                 * level-triggered listener firing forever. Spend the spare fd
                 * to accept and drop it, then re-arm the spare. */
                close(w->spare);
                fd = accept4(w->lfd, NULL, NULL, SOCK_CLOEXEC);
                if (fd >= 0) close(fd);
                w->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (fd < 0) return; /* EMFILE is reported even when the queue is empty */
                continue;
            }
            if (errno != EAGAIN) perror("accept4");
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->flags = W_IN;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) conn_close(c);
    }
}

static void epoll_add(int epfd, int fd, void *tag) {
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
}

static void *worker_run(void *arg) {
    struct worker *w = arg;
    for (;;) {
        int n = epoll_wait(w->epfd, w->events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            void *tag = w->events[i].data.ptr;
            uint32_t ev = w->events[i].events;
            if (tag == &TAG_LISTEN) {
                on_accept(w);
            } else if (tag == &TAG_SIGNAL) {
                struct signalfd_siginfo si;
                uint64_t one = 1;
                if (read(w->sigfd, &si, sizeof si) < 0) perror("read signalfd");
                if (write(g_stopfd, &one, sizeof one) < 0) perror("write eventfd");
            } else if (tag == &TAG_STOP) {
                /* Never read, so it stays readable and wakes every worker. */
                return NULL;
            } else {
                struct conn *c = tag;
                int rc = 0;
                if (ev & EPOLLERR) rc = -1;
                if (rc == 0 && (ev & (EPOLLOUT | EPOLLHUP)) && c->out) {
                    rc = flush(w, c);
                    if (rc == 0) rc = update_interest(w, c);
                }
                if (rc == 0 && (ev & (EPOLLIN | EPOLLHUP)) && (c->flags & W_IN))
                    rc = on_readable(w, c);
                if (rc != 0) conn_close(c); /* this connection only */
            }
        }
    }
}

static int make_listener(const char *host, int port, int reuseport) {
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *ai;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "getaddrinfo %s: %s\n", host, gai_strerror(rc));
        exit(2);
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) die("SO_REUSEADDR");
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        die("SO_REUSEPORT");
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) die("bind");
    if (listen(fd, BACKLOG) < 0) die("listen");
    freeaddrinfo(ai);
    return fd;
}

static int bound_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) die("getsockname");
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static long parse_num(const char *opt, const char *s, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "invalid --%s '%s' (expected %ld..%ld)\n", opt, s, lo, hi);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 9000, nthreads = 1;
    static const struct option opts[] = {
        { "host", required_argument, 0, 'h' },      { "port", required_argument, 0, 'p' },
        { "threads", required_argument, 0, 't' },   { "max-frame", required_argument, 0, 'm' },
        { 0, 0, 0, 0 },
    };
    for (int o; (o = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (o) {
        case 'h': host = optarg; break;
        case 'p': port = (int)parse_num("port", optarg, 0, 65535); break;
        case 't': nthreads = (int)parse_num("threads", optarg, 1, 1024); break;
        case 'm': g_max_frame = (uint32_t)parse_num("max-frame", optarg, 0, MAX_FRAME_CAP); break;
        default:
            fprintf(stderr, "usage: %s --host H --port P [--threads N] [--max-frame BYTES]\n",
                    argv[0]);
            return 2;
        }
    }

    /* Raise the fd limit to the hard limit: thousands of connections are normal. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    /* Block SIGINT/SIGTERM before any thread exists so every thread inherits
     * the mask and the signals are only ever consumed through the signalfd. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0) die("pthread_sigmask");
    signal(SIGPIPE, SIG_IGN); /* belt and braces: sends already use MSG_NOSIGNAL */

    g_stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (g_stopfd < 0) die("eventfd");

    struct worker *ws = calloc((size_t)nthreads, sizeof *ws);
    if (ws == NULL) die("calloc");
    for (int i = 0; i < nthreads; i++) {
        struct worker *w = &ws[i];
        w->lfd = make_listener(host, port, nthreads > 1);
        if (port == 0) port = bound_port(w->lfd); /* later listeners share this port */
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (w->epfd < 0) die("epoll_create1");
        w->scratch = malloc(SCRATCH_SIZE);
        w->tob = malloc(sizeof(buf_t) + 2 * SCRATCH_SIZE);
        if (w->scratch == NULL || w->tob == NULL) die("malloc");
        w->tob->off = w->tob->len = 0, w->tob->cap = 2 * SCRATCH_SIZE;
        epoll_add(w->epfd, w->lfd, &TAG_LISTEN);
        epoll_add(w->epfd, g_stopfd, &TAG_STOP);
        w->sigfd = -1;
        w->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    ws[0].sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (ws[0].sigfd < 0) die("signalfd");
    epoll_add(ws[0].epfd, ws[0].sigfd, &TAG_SIGNAL);

    printf("listening on %s:%d\n", host, port);
    fflush(stdout);

    for (int i = 1; i < nthreads; i++)
        if (pthread_create(&ws[i].tid, NULL, worker_run, &ws[i]) != 0) die("pthread_create");
    worker_run(&ws[0]); /* the main thread is worker 0 */
    for (int i = 1; i < nthreads; i++) pthread_join(ws[i].tid, NULL);

    /* Open connections are reclaimed by exit(); only the per-thread state is
     * freed here to keep leak checkers quiet. */
    for (int i = 0; i < nthreads; i++) {
        close(ws[i].epfd);
        close(ws[i].lfd);
        if (ws[i].spare >= 0) close(ws[i].spare);
        free(ws[i].scratch);
        free(ws[i].tob);
    }
    close(ws[0].sigfd);
    close(g_stopfd);
    free(ws);
    return 0;
}
