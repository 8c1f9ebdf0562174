/*
 * load_client.c - independent closed-loop load generator for framed echo
 * servers; used to cross-check the Swift bench driver.
 *
 * Protocol: frame = 4-byte big-endian length N, then N payload bytes.
 *
 *   cc -O2 -Wall -Wextra -std=gnu11 -pthread -o load_client load_client.c
 *   load_client --host 127.0.0.1 --port P --connections C --size BYTES
 *               --pipeline K --duration SECONDS [--warmup SECONDS] [--threads T]
 *
 * Each connection keeps K requests in flight: K are sent up front and one more
 * is queued for every reply. Every echoed byte is verified. Messages completing
 * inside [start + warmup, start + warmup + duration) are counted and their
 * latency (request queued -> reply fully received, CLOCK_MONOTONIC) goes into a
 * log-linear histogram (<= 1/64 relative bucket width). Prints one JSON line;
 * exits 1 if any error or mismatch was seen.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SCRATCH_SIZE   (256u * 1024)
#define MAX_EVENTS     256
#define SEND_BATCH     32   /* messages per sendmsg (2 iovecs each) */
#define READS_PER_WAKE 8
/* Payload of message (conn, seq) is pattern[off(conn, seq) ..][0, size). A
 * shifting window over one shared random pattern makes every in-flight message
 * distinct (while K < PAT_SLACK), so swapped, reordered or cross-connection
 * replies are caught, without per-message generation cost. */
#define PAT_SLACK      4093u

#define SUB_BITS  7 /* histogram: 2^(SUB_BITS-1) linear buckets per power of two */
#define HIST_SIZE ((66 - SUB_BITS) << (SUB_BITS - 1)) /* covers v = 2^64 - 1 */

struct conn {
    int fd;
    uint32_t id;
    uint8_t want_out;   /* EPOLLOUT currently registered */
    uint32_t credits;   /* messages queued but not yet fully written */
    uint64_t send_seq;  /* next message to write; send_off bytes of it are written */
    uint32_t send_off;
    uint64_t recv_seq;  /* reply being received; recv_got bytes of it so far */
    uint32_t recv_got;
    uint8_t hdr[4];
    uint8_t bad;        /* current reply already differed from the request */
    uint64_t *ts;       /* queue time of message seq at ts[seq % pipeline] */
};

struct thread {
    pthread_t tid;
    int epfd;
    struct conn **conns;
    int nconns;
    uint8_t *scratch;
    uint64_t msgs, errors, mismatches, max_ns;
    uint64_t hist[HIST_SIZE];
};

static const char *g_host = "127.0.0.1";
static const char *g_port = "9000";
static long g_conns = 1, g_size = 64, g_pipeline = 1, g_threads = 1;
static double g_duration = 5, g_warmup = 1;
static uint8_t *g_pattern, g_hdr[4];
static uint64_t g_t_start, g_t_measure, g_t_end;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t pat_off(uint32_t id, uint64_t seq) {
    return (uint32_t)((id * 2654435761ull + seq * 40503ull) % PAT_SLACK);
}

/* Log-linear bucketing: values < 2^SUB_BITS are exact, above that each power
 * of two is split into 2^(SUB_BITS-1) equal buckets. */
static int hist_index(uint64_t v) {
    if (v < (1u << SUB_BITS)) return (int)v;
    int shift = 63 - __builtin_clzll(v) - (SUB_BITS - 1);
    return (shift << (SUB_BITS - 1)) + (int)(v >> shift);
}

/* Highest value that maps to bucket i (conservative percentile reporting). */
static uint64_t hist_upper(int i) {
    if (i < (1 << SUB_BITS)) return (uint64_t)i;
    int shift = (i >> (SUB_BITS - 1)) - 1;
    uint64_t mant = (uint64_t)(i - (shift << (SUB_BITS - 1)));
    return ((mant + 1) << shift) - 1;
}

static void set_interest(struct thread *t, struct conn *c, int want_out) {
    if (c->want_out == want_out) return;
    struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c };
    epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = (uint8_t)want_out;
}

/* Write queued messages until none are left or the socket is full. */
static int do_send(struct thread *t, struct conn *c) {
    const size_t msg_len = 4 + (size_t)g_size;
    while (c->credits > 0) {
        struct iovec iov[2 * SEND_BATCH];
        int cnt = 0;
        size_t total = 0, off = c->send_off;
        uint64_t seq = c->send_seq;
        for (uint32_t m = 0; m < c->credits && m < SEND_BATCH; m++, seq++, off = 0) {
            if (off < 4) iov[cnt++] = (struct iovec){ g_hdr + off, 4 - off };
            size_t poff = off > 4 ? off - 4 : 0;
            if ((size_t)g_size > poff)
                iov[cnt++] = (struct iovec){ g_pattern + pat_off(c->id, seq) + poff,
                                             (size_t)g_size - poff };
            total += msg_len - off;
        }
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
        ssize_t k = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) return -1;
            k = 0;
        }
        for (size_t left = (size_t)k; left > 0;) {
            size_t rest = msg_len - c->send_off;
            if (left < rest) {
                c->send_off += (uint32_t)left;
                break;
            }
            left -= rest;
            c->send_off = 0;
            c->send_seq++;
            c->credits--;
        }
        if ((size_t)k < total) { /* socket buffer full: wait for EPOLLOUT */
            set_interest(t, c, 1);
            return 0;
        }
    }
    set_interest(t, c, 0);
    return 0;
}

/* Reply c->recv_seq is complete at time `now`: account for it and queue the
 * next request, which reuses the finished message's timestamp slot. */
static void complete(struct thread *t, struct conn *c, uint64_t now) {
    uint64_t *slot = &c->ts[c->recv_seq % (uint64_t)g_pipeline];
    if (c->bad) t->mismatches++;
    if (now >= g_t_measure && now < g_t_end) {
        uint64_t lat = now - *slot;
        t->msgs++;
        t->hist[hist_index(lat)]++;
        if (lat > t->max_ns) t->max_ns = lat;
    }
    *slot = now;
    c->recv_seq++;
    c->recv_got = 0;
    c->bad = 0;
    c->credits++;
}

/* Parse and verify received bytes. Returns -1 for an I/O error, -2 when the
 * stream cannot be trusted any more (wrong length or unsolicited reply). */
static int on_data(struct thread *t, struct conn *c, const uint8_t *p, size_t n, uint64_t now) {
    const size_t msg_len = 4 + (size_t)g_size;
    while (n > 0) {
        if (c->recv_got < 4) {
            size_t take = 4 - c->recv_got < n ? 4 - c->recv_got : n;
            memcpy(c->hdr + c->recv_got, p, take);
            c->recv_got += (uint32_t)take, p += take, n -= take;
            if (c->recv_got < 4) break;
            if (memcmp(c->hdr, g_hdr, 4) != 0 || c->recv_seq >= c->send_seq) return -2;
        } else {
            size_t pos = c->recv_got - 4;
            size_t take = msg_len - c->recv_got < n ? msg_len - c->recv_got : n;
            if (memcmp(p, g_pattern + pat_off(c->id, c->recv_seq) + pos, take) != 0) c->bad = 1;
            c->recv_got += (uint32_t)take, p += take, n -= take;
        }
        if (c->recv_got == msg_len) complete(t, c, now);
    }
    return 0;
}

static int on_readable(struct thread *t, struct conn *c) {
    for (int i = 0; i < READS_PER_WAKE; i++) {
        ssize_t n = read(c->fd, t->scratch, SCRATCH_SIZE);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            return -1;
        }
        if (n == 0) return -1; /* the server must not close during the run */
        int rc = on_data(t, c, t->scratch, (size_t)n, now_ns());
        if (rc < 0) return rc;
        if ((size_t)n < SCRATCH_SIZE) break;
    }
    return c->credits && !c->want_out ? do_send(t, c) : 0;
}

static void drop(struct thread *t, struct conn *c, int rc) {
    if (rc == -2) t->mismatches++;
    else t->errors++;
    close(c->fd);
    c->fd = -1;
}

static void *thread_run(void *arg) {
    struct thread *t = arg;
    struct epoll_event events[MAX_EVENTS];
    uint64_t t0 = now_ns();
    for (int i = 0; i < t->nconns; i++) {
        struct conn *c = t->conns[i];
        c->credits = (uint32_t)g_pipeline;
        for (long k = 0; k < g_pipeline; k++) c->ts[k] = t0;
        int rc = do_send(t, c);
        if (rc < 0) drop(t, c, rc);
    }
    for (;;) {
        uint64_t now = now_ns();
        if (now >= g_t_end) break;
        int timeout = (int)((g_t_end - now) / 1000000u) + 1;
        int n = epoll_wait(t->epfd, events, MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            t->errors++;
            break;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            uint32_t ev = events[i].events;
            int rc = 0;
            if (c->fd < 0) continue;
            if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) rc = on_readable(t, c);
            if (rc == 0 && (ev & EPOLLOUT) && c->fd >= 0) rc = do_send(t, c);
            if (rc < 0) drop(t, c, rc);
        }
    }
    for (int i = 0; i < t->nconns; i++)
        if (t->conns[i]->fd >= 0) close(t->conns[i]->fd);
    return NULL;
}

static int connect_one(const struct addrinfo *ai) {
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    /* Blocking connect, so setup is done before the clock starts. */
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
        fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static double parse_num(const char *opt, const char *s, double lo, double hi) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *s == '\0' || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "invalid --%s '%s' (expected %g..%g)\n", opt, s, lo, hi);
        exit(2);
    }
    return v;
}

static double percentile_us(const uint64_t *hist, uint64_t total, double q) {
    if (total == 0) return 0;
    uint64_t rank = (uint64_t)(q * (double)total + 0.999999), seen = 0;
    if (rank < 1) rank = 1;
    for (int i = 0; i < HIST_SIZE; i++)
        if ((seen += hist[i]) >= rank) return (double)hist_upper(i) / 1e3;
    return 0;
}

int main(int argc, char **argv) {
    static const struct option opts[] = {
        { "host", required_argument, 0, 'h' },     { "port", required_argument, 0, 'p' },
        { "connections", required_argument, 0, 'c' }, { "size", required_argument, 0, 's' },
        { "pipeline", required_argument, 0, 'k' }, { "duration", required_argument, 0, 'd' },
        { "warmup", required_argument, 0, 'w' },   { "threads", required_argument, 0, 't' },
        { 0, 0, 0, 0 },
    };
    for (int o; (o = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (o) {
        case 'h': g_host = optarg; break;
        case 'p': (void)parse_num("port", optarg, 1, 65535); g_port = optarg; break;
        case 'c': g_conns = (long)parse_num("connections", optarg, 1, 1000000); break;
        case 's': g_size = (long)parse_num("size", optarg, 0, 1 << 30); break;
        case 'k': g_pipeline = (long)parse_num("pipeline", optarg, 1, 1 << 20); break;
        case 'd': g_duration = parse_num("duration", optarg, 0.001, 1e6); break;
        case 'w': g_warmup = parse_num("warmup", optarg, 0, 1e6); break;
        case 't': g_threads = (long)parse_num("threads", optarg, 1, 1024); break;
        default:
            fprintf(stderr, "usage: %s --host H --port P --connections C --size BYTES "
                            "--pipeline K --duration S [--warmup S] [--threads T]\n", argv[0]);
            return 2;
        }
    }
    if (g_threads > g_conns) g_threads = g_conns;
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    /* Random (xorshift64*) bytes, so shifted windows differ from each other. */
    g_pattern = malloc((size_t)g_size + PAT_SLACK);
    if (g_pattern == NULL) return perror("malloc"), 2;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < (size_t)g_size + PAT_SLACK; i++) {
        x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
        g_pattern[i] = (uint8_t)((x * 0x2545F4914F6CDD1Dull) >> 56);
    }
    uint32_t sz = (uint32_t)g_size;
    g_hdr[0] = (uint8_t)(sz >> 24), g_hdr[1] = (uint8_t)(sz >> 16);
    g_hdr[2] = (uint8_t)(sz >> 8), g_hdr[3] = (uint8_t)sz;

    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV };
    struct addrinfo *ai;
    int gai = getaddrinfo(g_host, g_port, &hints, &ai);
    if (gai != 0) {
        fprintf(stderr, "getaddrinfo %s: %s\n", g_host, gai_strerror(gai));
        return 2;
    }

    struct thread *ts = calloc((size_t)g_threads, sizeof *ts);
    struct conn *cs = calloc((size_t)g_conns, sizeof *cs);
    uint64_t *stamps = calloc((size_t)(g_conns * g_pipeline), sizeof *stamps);
    if (ts == NULL || cs == NULL || stamps == NULL) return perror("calloc"), 2;
    uint64_t connect_errors = 0;
    for (long t = 0; t < g_threads; t++) {
        ts[t].epfd = epoll_create1(EPOLL_CLOEXEC);
        ts[t].scratch = malloc(SCRATCH_SIZE);
        ts[t].conns = calloc((size_t)(g_conns / g_threads + 1), sizeof(struct conn *));
        if (ts[t].epfd < 0 || ts[t].scratch == NULL || ts[t].conns == NULL)
            return perror("thread setup"), 2;
    }
    for (long i = 0; i < g_conns; i++) {
        struct conn *c = &cs[i];
        struct thread *t = &ts[i % g_threads];
        c->id = (uint32_t)i;
        c->ts = stamps + i * g_pipeline;
        c->fd = connect_one(ai);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (c->fd < 0 || epoll_ctl(t->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
            if (connect_errors++ == 0) perror("connect");
            if (c->fd >= 0) close(c->fd);
            continue;
        }
        t->conns[t->nconns++] = c;
    }
    freeaddrinfo(ai);

    g_t_start = now_ns();
    g_t_measure = g_t_start + (uint64_t)(g_warmup * 1e9);
    g_t_end = g_t_measure + (uint64_t)(g_duration * 1e9);
    for (long t = 0; t < g_threads; t++)
        if (pthread_create(&ts[t].tid, NULL, thread_run, &ts[t]) != 0)
            return perror("pthread_create"), 2;

    uint64_t msgs = 0, errors = connect_errors, mismatches = 0, max_ns = 0;
    static uint64_t hist[HIST_SIZE];
    for (long t = 0; t < g_threads; t++) {
        pthread_join(ts[t].tid, NULL);
        msgs += ts[t].msgs, errors += ts[t].errors, mismatches += ts[t].mismatches;
        if (ts[t].max_ns > max_ns) max_ns = ts[t].max_ns;
        for (int i = 0; i < HIST_SIZE; i++) hist[i] += ts[t].hist[i];
    }
    printf("{\"msgs\":%llu,\"seconds\":%.3f,\"msgs_per_s\":%.0f,\"mb_per_s\":%.2f,"
           "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
           "\"errors\":%llu,\"mismatches\":%llu}\n",
           (unsigned long long)msgs, g_duration, (double)msgs / g_duration,
           (double)msgs * (double)g_size / g_duration / 1e6,
           percentile_us(hist, msgs, 0.50), percentile_us(hist, msgs, 0.99),
           percentile_us(hist, msgs, 0.999), (double)max_ns / 1e3,
           (unsigned long long)errors, (unsigned long long)mismatches);
    for (long t = 0; t < g_threads; t++) {
        close(ts[t].epfd);
        free(ts[t].scratch);
        free(ts[t].conns);
    }
    free(ts), free(cs), free(stamps), free(g_pattern);
    return errors || mismatches ? 1 : 0;
}
