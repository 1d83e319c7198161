// An independent load generator in C for comparing ActorChat with other pub/sub servers on the
// same machine, in one run, with the same client code. It speaks three protocols: ActorChat's JSON
// lines, Redis pub/sub (RESP) and NATS. Each simulated client holds its own TCP connection(s),
// joins one room (a Redis channel, a NATS subject), and senders send at a constant offered rate,
// ONE MESSAGE PER WRITE (unless --pipeline N: N messages per write, for finding out what a figure
// measured with pipelining clients means), each stamped with the time it was due; receivers scan for
// the stamp and record due-to-receipt latency, so a slow server shows as latency, not as a lower
// rate. Figures are printed as scripts/loadtest.sh prints them.
//
//   loadgen --protocol actorchat|redis|redis-history|nats --port N --scenario fanout-100|fanout-1000|rooms|connections
//           [--rate MSGS_PER_S] [--seconds S] [--sweep] [--step-factor X] [--threads T] [--pipeline N] [--server-pid PID]
//           [--label NAME]   (the server column; the protocol's name unless given)
//           [--clients N]    (connections: N clients, default 19,000, in rooms of 190; it reports how long
//                             until every client had connected, logged in and joined, and exits)
// redis-history keeps every message as a chat server with history does on Redis: each publish is
// preceded, in the same write, by an XADD to the room's stream (capped at 100,000 entries).
// Exits 1 when the step fails (ratio under 0.99, p99 over 200 ms, errors or disconnects), or when
// a sweep's first step does.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <time.h>
#include <unistd.h>

enum protocol { ACTORCHAT, REDIS, NATS };
enum { PAYLOAD = 100, INBUF = 1 << 16, OUTBUF = 1 << 20, BUCKETS = 1024 + 48 * 64 };

struct client {
    int index, room, sender, ready, closed;
    int rx, tx;                       // rx receives deliveries; tx sends (the same for ActorChat and NATS)
    char *in; size_t inLength;        // partial line carried over between reads of rx
    char *out; size_t outLength;      // bytes the kernel did not take yet, on tx
};

struct tally {
    uint64_t sent, received, errors, dropped, disconnects, maxNanos;
    uint64_t histogram[BUCKETS];
    double lastDelivery;
};

struct worker {
    pthread_t thread;
    int epoll;
    struct client **senders; int senderCount;
    struct client **waiting; int waitingCount; // senders with bytes the kernel has not taken yet
    struct tally tally;
};

static enum protocol protocol;
static int redisHistory; // REDIS: XADD each message to its room's stream before publishing it
static double joinedAt;   // when the last client's `joined` (or subscription) came back
static int port, threads = 1, pipeline = 1, clientCount, roomSize, senderCount, serverPid;
static double rate, seconds = 3;
static struct client *clients;
static struct worker *workers;
static pthread_barrier_t barrier;
static double stepRate, stepSeconds;
static volatile int finished;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t nowNanos(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
}

static void fail(const char *what) { perror(what); exit(1); }

// Microseconds, exact below 1,024, then 64 steps per power of two (under 1.6% error).
static int bucket(uint64_t micros) {
    if (micros < 1024) return (int)micros;
    int exponent = 63 - __builtin_clzll(micros);
    if (exponent > 57) exponent = 57;
    return 1024 + (exponent - 10) * 64 + (int)((micros >> (exponent - 6)) & 63);
}

static double bucketMillis(int b) {
    if (b < 1024) return b / 1000.0;
    int exponent = (b - 1024) / 64 + 10, sub = (b - 1024) % 64;
    return (double)(((uint64_t)(64 + sub) << (exponent - 6)) + ((uint64_t)1 << (exponent - 6))) / 1000.0;
}

static double percentile(const uint64_t *histogram, uint64_t total, double p) {
    if (total == 0) return 0;
    uint64_t rank = (uint64_t)(p * total), seen = 0;
    for (int b = 0; b < BUCKETS; b++) {
        seen += histogram[b];
        if (seen > rank) return bucketMillis(b);
    }
    return bucketMillis(BUCKETS - 1);
}

// Connections come from 127.0.0.1–127.0.0.8 in turn, as scripts/loadtest.sh's do: with one source
// address the kernel's search for a free port walks every connection it has, and 19,000 of them
// made connecting take seconds. The port is picked at connect (IP_BIND_ADDRESS_NO_PORT).
static int connectLoopback(void) {
    static unsigned next;
    int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;
    struct sockaddr_in source = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK + next++ % 8)};
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on) || bind(fd, (void *)&source, sizeof source)) fail("bind");
    if (connect(fd, (void *)&address, sizeof address)) fail("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void writeAll(int fd, const char *bytes, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, bytes, length);
        if (n < 0 && errno == EAGAIN) continue;
        if (n <= 0) fail("write");
        bytes += n; length -= (size_t)n;
    }
}

// Queues one message on the sender's connection, written now unless earlier bytes still wait.
static void enqueue(struct worker *w, struct client *c, const char *bytes, size_t length) {
    if (c->outLength + length > OUTBUF) { w->tally.dropped++; return; }
    if (c->outLength == 0) {
        ssize_t n = write(c->tx, bytes, length);
        if (n == (ssize_t)length) return;
        if (n < 0) { if (errno != EAGAIN) { w->tally.errors++; return; } n = 0; }
        bytes += n; length -= (size_t)n;
        w->waiting[w->waitingCount++] = c;
    }
    memcpy(c->out + c->outLength, bytes, length);
    c->outLength += length;
}

// Writes what waits; returns whether anything still does.
static int flushWaiting(struct worker *w) {
    int kept = 0;
    for (int i = 0; i < w->waitingCount; i++) {
        struct client *c = w->waiting[i];
        ssize_t n = c->closed ? (ssize_t)c->outLength : write(c->tx, c->out, c->outLength);
        if (n > 0) {
            memmove(c->out, c->out + n, c->outLength - (size_t)n);
            c->outLength -= (size_t)n;
        }
        if (c->outLength > 0) w->waiting[kept++] = c;
    }
    w->waitingCount = kept;
    return kept > 0;
}

// Sends `count` messages in one write, all stamped with the time the first was due.
static void sendMessages(struct worker *w, struct client *c, uint64_t dueNanos, int count) {
    char payload[PAYLOAD + 1], frame[512], batch[512 * 64];
    int length = snprintf(payload, sizeof payload, "@%llu:%d;", (unsigned long long)dueNanos, c->index);
    memset(payload + length, 'x', PAYLOAD - length);
    payload[PAYLOAD] = 0;
    char room[32];
    snprintf(room, sizeof room, "peer-%d", c->room);
    int size;
    switch (protocol) {
    case ACTORCHAT:
        size = snprintf(frame, sizeof frame, "{\"event\":\"send\",\"params\":{\"room\":\"%s\",\"text\":\"%s\"}}\n", room, payload);
        break;
    case REDIS:
        size = redisHistory
            ? snprintf(frame, sizeof frame, "*8\r\n$4\r\nXADD\r\n$%zu\r\n%s:log\r\n$6\r\nMAXLEN\r\n$1\r\n~\r\n$6\r\n100000\r\n$1\r\n*\r\n$1\r\nm\r\n$%d\r\n%s\r\n",
                       strlen(room) + 4, room, PAYLOAD, payload)
            : 0;
        size += snprintf(frame + size, sizeof frame - size, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$%d\r\n%s\r\n", strlen(room), room, PAYLOAD, payload);
        break;
    default:
        size = snprintf(frame, sizeof frame, "PUB %s %d\r\n%s\r\n", room, PAYLOAD, payload);
    }
    for (int i = 0; i < count; i++) memcpy(batch + (size_t)i * size, frame, (size_t)size);
    enqueue(w, c, batch, (size_t)size * count);
    w->tally.sent += count;
}

static void disconnect(struct worker *w, struct client *c);

// One complete line from a client's rx connection: a delivery carries '@due:sender;'.
static void handleLine(struct worker *w, struct client *c, char *line, size_t length, uint64_t receivedNanos) {
    if (protocol == NATS && length == 4 && memcmp(line, "PING", 4) == 0) { writeAll(c->rx, "PONG\r\n", 6); return; }
    if (c->ready < 2) {
        if ((protocol == ACTORCHAT && (memmem(line, length, "\"event\":\"welcome\"", 17) || memmem(line, length, "\"event\":\"joined\"", 16)))
            || (protocol == REDIS && length == 9 && memcmp(line, "subscribe", 9) == 0)
            || (protocol == NATS && length == 4 && memcmp(line, "PONG", 4) == 0))
            c->ready++;
    }
    if ((protocol == ACTORCHAT && length > 16 && memcmp(line, "{\"event\":\"error\"", 16) == 0) || (protocol != ACTORCHAT && line[0] == '-')) {
        w->tally.errors++;
        return;
    }
    char *at = memchr(line, '@', length);
    if (!at) return;
    char *end;
    uint64_t due = strtoull(at + 1, &end, 10);
    if (*end != ':' || atoi(end + 1) == c->index) return;
    uint64_t elapsed = receivedNanos > due ? receivedNanos - due : 0;
    w->tally.received++;
    w->tally.histogram[bucket(elapsed / 1000)]++;
    if (elapsed > w->tally.maxNanos) w->tally.maxNanos = elapsed;
}

static void readClient(struct worker *w, struct client *c) {
    ssize_t n = read(c->rx, c->in + c->inLength, INBUF - c->inLength);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) { disconnect(w, c); return; }
    size_t length = c->inLength + (size_t)n, start = 0;
    uint64_t receivedNanos = nowNanos();
    for (;;) {
        char *newline = memchr(c->in + start, '\n', length - start);
        if (!newline) break;
        size_t end = (size_t)(newline - c->in);
        size_t lineEnd = end > start && c->in[end - 1] == '\r' ? end - 1 : end;
        handleLine(w, c, c->in + start, lineEnd - start, receivedNanos);
        start = end + 1;
    }
    if (start == 0 && length == INBUF) start = length; // a line longer than the buffer: not ours, drop it
    memmove(c->in, c->in + start, length - start);
    c->inLength = length - start;
    w->tally.lastDelivery = receivedNanos / 1e9;
}

// The server cut this client (a slow consumer, say): it stops sending and receiving, and the step fails.
static void disconnect(struct worker *w, struct client *c) {
    epoll_ctl(w->epoll, EPOLL_CTL_DEL, c->rx, NULL);
    if (c->tx != c->rx) epoll_ctl(w->epoll, EPOLL_CTL_DEL, c->tx, NULL);
    c->closed = 1;
    w->tally.disconnects++;
}

static void drainReplies(int fd) {
    static __thread char sink[INBUF];
    while (read(fd, sink, sizeof sink) > 0) {}
}

// Reads whatever is ready on this worker's connections, waiting at most `timeoutMillis`.
static void pump(struct worker *w, int timeoutMillis) {
    struct epoll_event events[256];
    int n = epoll_wait(w->epoll, events, 256, timeoutMillis);
    for (int i = 0; i < n; i++) {
        uint64_t tag = events[i].data.u64;
        struct client *c = &clients[tag >> 1];
        if (tag & 1) drainReplies(c->tx); else readClient(w, c);
    }
}

static void watch(struct worker *w, struct client *c) {
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = (uint64_t)c->index << 1};
    if (epoll_ctl(w->epoll, EPOLL_CTL_ADD, c->rx, &event)) fail("epoll_ctl");
    if (c->tx != c->rx) {
        event.data.u64 |= 1;
        if (epoll_ctl(w->epoll, EPOLL_CTL_ADD, c->tx, &event)) fail("epoll_ctl");
    }
}

// Offers stepRate messages/s from this worker's share of the senders for stepSeconds, message k
// due at start + k/rate, then reads until nothing arrived for half a second (at most five).
static void runStep(struct worker *w) {
    memset(&w->tally, 0, sizeof w->tally);
    double share = stepRate * w->senderCount / senderCount;
    double start = now(), end = start + stepSeconds;
    uint64_t startNanos = nowNanos(), issued = 0, next = 0;
    for (double t = start; t < end; t = now()) {
        uint64_t due = share > 0 ? (uint64_t)((t - start) * share) : 0;
        flushWaiting(w);
        for (; issued + pipeline <= due; issued += pipeline) {
            struct client *c = w->senders[next++ % w->senderCount];
            if (!c->closed) sendMessages(w, c, startNanos + (uint64_t)(issued * 1e9 / share), pipeline);
        }
        // Waking each millisecond (or on data), not spinning, leaves the CPU to the server; messages
        // go out in bursts of a millisecond's worth, each still carrying its due time, so the
        // burst delay counts as latency rather than as a gentler rate.
        pump(w, 1);
    }
    w->tally.lastDelivery = now();
    double drainEnd = now() + 5;
    for (;;) {
        int pending = flushWaiting(w);
        pump(w, 50);
        double t = now();
        if (t > drainEnd || (!pending && t - w->tally.lastDelivery > 0.5)) break;
    }
}

static void *workerMain(void *argument) {
    struct worker *w = argument;
    for (;;) {
        pthread_barrier_wait(&barrier);
        if (finished) return NULL;
        runStep(w);
        pthread_barrier_wait(&barrier);
    }
}

static void waitReady(struct worker *w, int target) {
    double deadline = now() + 60;
    for (;;) {
        int ready = 0;
        for (int i = 0; i < clientCount; i++) ready += clients[i].ready >= target;
        if (ready == clientCount) return;
        if (now() > deadline) { fprintf(stderr, "loadgen: only %d of %d clients ready\n", ready, clientCount); exit(1); }
        pump(w, 10);
    }
}

// Connects every client and subscribes it to its room, on one epoll; workers take them after.
static void setUp(void) {
    struct worker setup = {.epoll = epoll_create1(0)};
    char line[256];
    int control = -1;
    if (protocol == ACTORCHAT) {
        control = connectLoopback();
        int length = snprintf(line, sizeof line, "{\"event\":\"login\",\"params\":{\"name\":\"peerctl%d\"}}\n", getpid());
        writeAll(control, line, (size_t)length);
        for (int r = 0; r < (clientCount + roomSize - 1) / roomSize; r++) {
            length = snprintf(line, sizeof line, "{\"event\":\"create_room\",\"params\":{\"room\":\"peer-%d\",\"limit\":%d}}\n", r, roomSize);
            writeAll(control, line, (size_t)length);
        }
        length = snprintf(line, sizeof line, "{\"event\":\"ping\",\"id\":\"done\"}\n");
        writeAll(control, line, (size_t)length);
        char reply[INBUF]; size_t have = 0;
        while (!memmem(reply, have, "\"id\":\"done\"", 11)) {
            ssize_t n = read(control, reply + have, sizeof reply - have);
            if (n < 0 && errno == EAGAIN) continue;
            if (n <= 0) fail("control read");
            have += (size_t)n;
            if (have == sizeof reply) { memmove(reply, reply + have - 64, 64); have = 64; }
        }
        if (memmem(reply, have, "room_exists", 11)) { fprintf(stderr, "loadgen: rooms exist; use a fresh server\n"); exit(1); }
    }
    for (int i = 0; i < clientCount; i++) {
        struct client *c = &clients[i];
        c->rx = c->tx = connectLoopback();
        if (protocol == REDIS) c->tx = connectLoopback();
        int length = 0;
        switch (protocol) {
        case ACTORCHAT: length = snprintf(line, sizeof line, "{\"event\":\"login\",\"params\":{\"name\":\"peer%d-%d\"}}\n", getpid(), i); break;
        case REDIS: length = snprintf(line, sizeof line, "SUBSCRIBE peer-%d\r\n", c->room); break;
        case NATS: length = snprintf(line, sizeof line, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB peer-%d 1\r\nPING\r\n", c->room); break;
        }
        writeAll(c->rx, line, (size_t)length);
        watch(&setup, c);
        if (i % 256 == 255) pump(&setup, 0);
    }
    waitReady(&setup, 1);
    if (protocol == ACTORCHAT) {
        for (int i = 0; i < clientCount; i++) {
            int length = snprintf(line, sizeof line, "{\"event\":\"join\",\"params\":{\"room\":\"peer-%d\"}}\n", clients[i].room);
            writeAll(clients[i].rx, line, (size_t)length);
        }
        waitReady(&setup, 2);
    }
    joinedAt = now();
    // The join notices: read until the connections fall quiet.
    for (double quiet = now(); now() - quiet < 0.5;) {
        uint64_t before = setup.tally.errors;
        setup.tally.lastDelivery = 0;
        pump(&setup, 100);
        if (setup.tally.lastDelivery > 0 || setup.tally.errors != before) quiet = now();
    }
    if (setup.tally.errors) { fprintf(stderr, "loadgen: %llu errors while setting up\n", (unsigned long long)setup.tally.errors); exit(1); }
    close(setup.epoll);
}

static double serverCPU(void) {
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", serverPid);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(text, sizeof text, f)) { if (f) fclose(f); return 0; }
    fclose(f);
    char *p = strrchr(text, ')');
    unsigned long user = 0, system = 0;
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &user, &system);
    return (double)(user + system) / sysconf(_SC_CLK_TCK);
}

static double serverPeakMB(void) {
    char path[64], text[256];
    snprintf(path, sizeof path, "/proc/%d/status", serverPid);
    FILE *f = fopen(path, "r");
    double kb = 0;
    while (f && fgets(text, sizeof text, f)) if (sscanf(text, "VmHWM: %lf", &kb) == 1) break;
    if (f) fclose(f);
    return kb / 1024;
}

static double ownCPU(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
    const char *scenario = "fanout-100", *name = "actorchat", *label = NULL;
    int sweep = 0;
    double stepFactor = 1.25; // a sweep's rate multiplier per step
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--sweep")) { sweep = 1; continue; }
        if (!strcmp(a, "--protocol")) name = v;
        else if (!strcmp(a, "--port")) port = atoi(v);
        else if (!strcmp(a, "--scenario")) scenario = v;
        else if (!strcmp(a, "--rate")) rate = atof(v);
        else if (!strcmp(a, "--seconds")) seconds = atof(v);
        else if (!strcmp(a, "--step-factor")) stepFactor = atof(v);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--pipeline")) pipeline = atoi(v);
        else if (!strcmp(a, "--server-pid")) serverPid = atoi(v);
        else if (!strcmp(a, "--label")) label = v;
        else if (!strcmp(a, "--clients")) clientCount = atoi(v);
        else { fprintf(stderr, "loadgen: unknown option %s\n", a); return 2; }
        i++;
    }
    signal(SIGPIPE, SIG_IGN); // a server that cuts a client fails the step, not the generator
    redisHistory = !strcmp(name, "redis-history");
    protocol = !strcmp(name, "redis") || redisHistory ? REDIS : !strcmp(name, "nats") ? NATS : ACTORCHAT;
    if (label) name = label;
    if (!strcmp(scenario, "fanout-100")) { clientCount = 100; roomSize = 100; senderCount = 10; if (!rate) rate = 10000; }
    else if (!strcmp(scenario, "fanout-1000")) { clientCount = 1000; roomSize = 1000; senderCount = 10; if (!rate) rate = 1000; }
    else if (!strcmp(scenario, "rooms")) { clientCount = 1000; roomSize = 10; senderCount = 1000; if (!rate) rate = 50000; }
    else if (!strcmp(scenario, "connections")) { clientCount = clientCount ? clientCount : 19000; roomSize = 190; senderCount = 1; }
    else { fprintf(stderr, "loadgen: unknown scenario %s\n", scenario); return 2; }
    // One descriptor per client (two for Redis): raise the soft limit as far as the hard one allows.
    struct rlimit files;
    getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
    if (!port) { fprintf(stderr, "loadgen: --port is required\n"); return 2; }
    if (pipeline < 1 || pipeline > 64) { fprintf(stderr, "loadgen: --pipeline is 1 to 64\n"); return 2; }
    if (stepFactor < 1.01 || stepFactor > 4) { fprintf(stderr, "loadgen: --step-factor is 1.01 to 4\n"); return 2; }

    clients = calloc(clientCount, sizeof *clients);
    int stride = clientCount / senderCount;
    for (int i = 0; i < clientCount; i++) {
        clients[i] = (struct client){.index = i, .room = i / roomSize, .sender = i % stride == 0,
                                     .in = malloc(INBUF), .out = malloc(OUTBUF)};
    }
    double setupStart = now(), setupCPU = serverPid ? serverCPU() : 0;
    setUp();
    fprintf(stderr, "loadgen: %s, %s: %d clients ready in %.2f s\n", name, scenario, clientCount, now() - setupStart);
    if (!strcmp(scenario, "connections")) {
        // The join storm alone: every client connected and logged in, then every join sent at once.
        printf("%-9s connected, logged in and joined %d clients in %.2f s; server CPU %.2f s (notices included); generator CPU %.2f s\n",
               name, clientCount, joinedAt - setupStart, serverCPU() - setupCPU, ownCPU());
        return 0;
    }

    workers = calloc(threads, sizeof *workers);
    for (int t = 0; t < threads; t++) {
        struct worker *w = &workers[t];
        w->epoll = epoll_create1(0);
        w->senders = calloc(clientCount, sizeof *w->senders);
        w->waiting = calloc(clientCount, sizeof *w->waiting);
    }
    // Senders and listeners are dealt out separately, so every worker gets its share of both.
    int dealt[2] = {0, 0};
    for (int i = 0; i < clientCount; i++) {
        struct client *c = &clients[i];
        struct worker *w = &workers[dealt[c->sender]++ % threads];
        if (c->sender) w->senders[w->senderCount++] = c;
        watch(w, c);
    }
    pthread_barrier_init(&barrier, NULL, threads + 1);
    for (int t = 0; t < threads; t++) pthread_create(&workers[t].thread, NULL, workerMain, &workers[t]);

    printf("%-9s %11s %12s %12s %6s %7s %7s %7s %8s %8s %6s %5s %6s %7s %7s\n", "server", "offered/s", "expected/s", "achieved/s", "ratio",
           "p50ms", "p90ms", "p99ms", "p99.9ms", "maxms", "errors", "disc", "srvCPU", "srvMB", "genCPU");
    double sustained = 0;
    int passed = 0;
    for (int step = 0; step < 40; step++) {
        stepRate = rate; stepSeconds = seconds;
        double cpuBefore = serverCPU(), ownBefore = ownCPU();
        pthread_barrier_wait(&barrier);
        pthread_barrier_wait(&barrier);
        struct tally total = {0};
        for (int t = 0; t < threads; t++) {
            struct tally *x = &workers[t].tally;
            total.sent += x->sent; total.received += x->received; total.errors += x->errors + x->dropped;
            total.disconnects += x->disconnects;
            if (x->maxNanos > total.maxNanos) total.maxNanos = x->maxNanos;
            for (int b = 0; b < BUCKETS; b++) total.histogram[b] += x->histogram[b];
        }
        double expected = (double)total.sent * (roomSize - 1);
        double ratio = expected > 0 ? total.received / expected : 0;
        double p99 = percentile(total.histogram, total.received, 0.99);
        printf("%-9s %11.0f %12.0f %12.0f %6.3f %7.2f %7.2f %7.2f %8.2f %8.2f %6llu %5llu %6.2f %7.1f %7.2f\n", name, rate,
               expected / seconds, total.received / seconds, ratio, percentile(total.histogram, total.received, 0.5),
               percentile(total.histogram, total.received, 0.9), p99, percentile(total.histogram, total.received, 0.999),
               total.maxNanos / 1e6, (unsigned long long)total.errors, (unsigned long long)total.disconnects, serverCPU() - cpuBefore, serverPeakMB(), ownCPU() - ownBefore);
        fflush(stdout);
        int passes = ratio >= 0.99 && p99 <= 200 && total.errors == 0 && total.disconnects == 0;
        if (passes) sustained = total.received / seconds;
        passed = passes;
        if (!sweep || !passes) break;
        rate *= stepFactor;
    }
    if (sweep) printf("%-9s sustained capacity: %.0f deliveries/s\n", name, sustained);
    finished = 1;
    pthread_barrier_wait(&barrier);
    // A single step must pass; a sweep must pass at least its first step.
    return (sweep ? sustained > 0 : passed) ? 0 : 1;
}
