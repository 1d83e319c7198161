// The "minimal C epoll fan-out server", rebuilt to measure on this machine what the kernel
// leaves for any server of this design: one thread, level-triggered epoll, each broadcast copied
// into every member's output, and one write per connection with output, SLICE connections per
// epoll turn in the order they got output (64 by default, as ActorChat's loop; 0 writes them all
// each turn). It speaks just enough Redis pub/sub (SUBSCRIBE and PUBLISH, inline or as RESP arrays)
// for scripts/peers/loadgen.c --protocol redis. No limits and no error handling beyond dropping a
// connection: a floor, not a server.
//
// With --store FILE it also keeps every message in SQLite the way ActorChat's store does, without
// the (room, seq) index: a writer thread commits what was published meanwhile in one transaction
// (WAL, synchronous=NORMAL; commits back to back spaced by 0.4 ms unless 256 messages wait, as
// ActorChat's writer does), and a message is fanned out and answered only once committed. That is
// the floor of "broadcast after commit" on this machine, beside the floor of broadcasting alone.
// Only PUBLISH waits for the commit: a SUBSCRIBE's reply may overtake an earlier PUBLISH's, which
// loadgen (it subscribes first, then only publishes) does not mind.
//
//   fanout-floor PORT [SLICE] [--store FILE]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { INBUF = 1 << 16, MAXCHANNELS = 4096, MAXFDS = 1 << 16 };

struct connection {
    unsigned long id; // told apart from a later connection given the same descriptor and address
    int fd, dirty, watchingOut;
    char in[INBUF]; size_t inLength;
    char *out; size_t outLength, outCapacity;
};

struct channel { char name[64]; struct connection **members; int count, capacity; long seq; };

// A published message waiting for its commit, then for its fan-out.
struct pending {
    struct pending *next;
    unsigned long publisherID; int publisherFD;
    struct channel *channel; long seq, ts;
    size_t frameLength, textOffset, textLength;
    char frame[];
};

static struct connection *connections[MAXFDS];
static struct channel channels[MAXCHANNELS];
static int channelCount, epollFD;
// Connections with output, in the order they got it; those before `cursor` were written this pass.
static struct connection **dirty;
static int dirtyCount, cursor, slice = 64;
// The store: the loop appends to `submitted`; the writer commits it and moves it to `committed`,
// then wakes the loop through `committedFD`.
static const char *storePath;
static pthread_mutex_t storeLock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t storeWake = PTHREAD_COND_INITIALIZER;
static struct pending *submitted, **submittedTail = &submitted, *committed, **committedTail = &committed;
static int committedFD = -1, submittedCount;

static void fail(const char *what) { perror(what); exit(1); }

enum { COMMIT_SPACING_NS = 400000, FULL_BATCH = 256 };

static long nanos(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000000000L + now.tv_nsec;
}

static void append(struct connection *c, const char *bytes, size_t length) {
    if (c->outLength + length > c->outCapacity) {
        while (c->outLength + length > c->outCapacity) c->outCapacity = c->outCapacity ? c->outCapacity * 2 : 4096;
        c->out = realloc(c->out, c->outCapacity);
    }
    memcpy(c->out + c->outLength, bytes, length);
    c->outLength += length;
    if (!c->dirty) { c->dirty = 1; dirty[dirtyCount++] = c; }
}

// Open addressing over FNV-1a; the table is twice the channel limit, so a probe always ends.
static struct channel *channelNamed(const char *name, size_t length, int create) {
    static struct channel *table[MAXCHANNELS * 2];
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < length; i++) hash = (hash ^ (uint8_t)name[i]) * 16777619u;
    for (uint32_t slot = hash % (MAXCHANNELS * 2);; slot = (slot + 1) % (MAXCHANNELS * 2)) {
        struct channel *ch = table[slot];
        if (ch && strlen(ch->name) == length && memcmp(ch->name, name, length) == 0) return ch;
        if (ch) continue;
        if (!create || channelCount == MAXCHANNELS || length >= sizeof ch->name) return NULL;
        ch = table[slot] = &channels[channelCount++];
        memcpy(ch->name, name, length);
        ch->name[length] = 0;
        return ch;
    }
}

static void drop(struct connection *c) {
    for (int i = 0; i < channelCount; i++)
        for (int j = 0; j < channels[i].count; j++)
            if (channels[i].members[j] == c) channels[i].members[j--] = channels[i].members[--channels[i].count];
    for (int i = 0; i < dirtyCount; i++) if (dirty[i] == c) dirty[i] = NULL;
    close(c->fd);
    connections[c->fd] = NULL;
    free(c->out);
    free(c);
}

// One command: argv[0..argc) are its bulk strings.
static void command(struct connection *c, int argc, const char **argv, const size_t *lengths) {
    char frame[1024];
    if (argc == 2 && lengths[0] == 9 && strncasecmp(argv[0], "SUBSCRIBE", 9) == 0) {
        struct channel *ch = channelNamed(argv[1], lengths[1], 1);
        if (!ch) { append(c, "-ERR channels\r\n", 15); return; }
        if (ch->count == ch->capacity) {
            ch->capacity = ch->capacity ? ch->capacity * 2 : 16;
            ch->members = realloc(ch->members, sizeof *ch->members * ch->capacity);
        }
        ch->members[ch->count++] = c;
        int n = snprintf(frame, sizeof frame, "*3\r\n$9\r\nsubscribe\r\n$%zu\r\n%.*s\r\n:1\r\n", lengths[1], (int)lengths[1], argv[1]);
        append(c, frame, (size_t)n);
    } else if (argc == 3 && lengths[0] == 7 && strncasecmp(argv[0], "PUBLISH", 7) == 0 && lengths[2] < 900 && storePath) {
        struct channel *ch = channelNamed(argv[1], lengths[1], 0);
        if (!ch) { append(c, ":0\r\n", 4); return; }
        int n = snprintf(frame, sizeof frame, "*3\r\n$7\r\nmessage\r\n$%zu\r\n%.*s\r\n$%zu\r\n",
                         lengths[1], (int)lengths[1], argv[1], lengths[2]);
        struct pending *p = malloc(sizeof *p + (size_t)n + lengths[2] + 2);
        *p = (struct pending){.publisherID = c->id, .publisherFD = c->fd, .channel = ch, .seq = ++ch->seq, .ts = nanos() / 1000000,
                              .frameLength = (size_t)n + lengths[2] + 2, .textOffset = (size_t)n, .textLength = lengths[2]};
        memcpy(p->frame, frame, (size_t)n);
        memcpy(p->frame + n, argv[2], lengths[2]);
        memcpy(p->frame + n + lengths[2], "\r\n", 2);
        pthread_mutex_lock(&storeLock);
        *submittedTail = p;
        submittedTail = &p->next;
        submittedCount++;
        pthread_cond_signal(&storeWake);
        pthread_mutex_unlock(&storeLock);
    } else if (argc == 3 && lengths[0] == 7 && strncasecmp(argv[0], "PUBLISH", 7) == 0 && lengths[2] < 900) {
        struct channel *ch = channelNamed(argv[1], lengths[1], 0);
        int count = ch ? ch->count : 0;
        if (count) {
            int n = snprintf(frame, sizeof frame, "*3\r\n$7\r\nmessage\r\n$%zu\r\n%.*s\r\n$%zu\r\n%.*s\r\n",
                             lengths[1], (int)lengths[1], argv[1], lengths[2], (int)lengths[2], argv[2]);
            for (int i = 0; i < count; i++) append(ch->members[i], frame, (size_t)n);
        }
        int n = snprintf(frame, sizeof frame, ":%d\r\n", count);
        append(c, frame, (size_t)n);
    } else {
        append(c, "-ERR unknown command\r\n", 22);
    }
}

// Parses one command from `bytes`, an inline line or a RESP array of bulk strings; returns its
// length, 0 if incomplete, -1 if malformed.
static long parse(struct connection *c, char *bytes, size_t length) {
    const char *argv[4]; size_t lengths[4];
    char *p = bytes, *end = bytes + length;
    char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) return 0;
    if (*p != '*') {
        int argc = 0;
        for (char *word = p; word < eol && argc < 4;) {
            char *space = word;
            while (space < eol && *space != ' ' && *space != '\r') space++;
            if (space > word) { argv[argc] = word; lengths[argc++] = (size_t)(space - word); }
            word = space + 1;
        }
        if (argc) command(c, argc, argv, lengths);
        return eol + 1 - bytes;
    }
    int argc = atoi(p + 1);
    if (argc < 1 || argc > 4) return -1;
    p = eol + 1;
    for (int i = 0; i < argc; i++) {
        if (p >= end) return 0;
        if (*p != '$') return -1;
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) return 0;
        long size = atol(p + 1);
        if (size < 0 || size > INBUF / 2) return -1;
        p = eol + 1;
        if (end - p < size + 2) return 0;
        argv[i] = p; lengths[i] = (size_t)size;
        p += size + 2;
    }
    command(c, argc, argv, lengths);
    return p - bytes;
}

static void check(sqlite3 *db, int rc) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE) { fprintf(stderr, "fanout-floor: %s\n", sqlite3_errmsg(db)); exit(1); }
}

// The writer: one transaction for everything published during the previous one.
static void *writer(void *unused) {
    (void)unused;
    sqlite3 *db = NULL;
    sqlite3_stmt *insert;
    int opened = sqlite3_open(storePath, &db);
    check(db, opened);
    check(db, sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                               "CREATE TABLE messages (id INTEGER PRIMARY KEY, room_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
                               " sender TEXT NOT NULL, text TEXT NOT NULL, ts INTEGER NOT NULL);", 0, 0, 0));
    check(db, sqlite3_prepare_v2(db, "INSERT INTO messages (room_id, seq, sender, text, ts) VALUES (?, ?, ?, ?, ?)", -1, &insert, 0));
    uint64_t one = 1;
    long lastCommit = 0;
    do {
        pthread_mutex_lock(&storeLock);
        while (!submitted) pthread_cond_wait(&storeWake, &storeLock);
        // Commits that come back to back are spaced by COMMIT_SPACING_NS, as ActorChat's writer does,
        // so a busy writer commits in batches rather than in ones and twos.
        long sinceLast = nanos() - lastCommit;
        if (sinceLast < COMMIT_SPACING_NS && submittedCount < FULL_BATCH) {
            pthread_mutex_unlock(&storeLock);
            nanosleep(&(struct timespec){.tv_nsec = COMMIT_SPACING_NS - sinceLast}, NULL);
            pthread_mutex_lock(&storeLock);
        }
        lastCommit = nanos();
        struct pending *batch = submitted, **batchTail = submittedTail;
        submittedCount = 0;
        submitted = NULL;
        submittedTail = &submitted;
        pthread_mutex_unlock(&storeLock);
        check(db, sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0));
        for (struct pending *p = batch; p; p = p->next) {
            sqlite3_bind_int64(insert, 1, p->channel - channels + 1);
            sqlite3_bind_int64(insert, 2, p->seq);
            sqlite3_bind_text(insert, 3, "bench-1234", -1, SQLITE_STATIC);
            sqlite3_bind_text(insert, 4, p->frame + p->textOffset, (int)p->textLength, SQLITE_STATIC);
            sqlite3_bind_int64(insert, 5, p->ts);
            check(db, sqlite3_step(insert));
            sqlite3_reset(insert);
        }
        check(db, sqlite3_exec(db, "COMMIT", 0, 0, 0));
        pthread_mutex_lock(&storeLock);
        *committedTail = batch;
        committedTail = batchTail;
        pthread_mutex_unlock(&storeLock);
    } while (write(committedFD, &one, sizeof one) == sizeof one);
    fail("eventfd");
    return NULL;
}

// Fans out and answers what the writer has committed, in publication order.
static void deliverCommitted(void) {
    uint64_t count;
    if (read(committedFD, &count, sizeof count) < 0) return;
    pthread_mutex_lock(&storeLock);
    struct pending *p = committed;
    committed = NULL;
    committedTail = &committed;
    pthread_mutex_unlock(&storeLock);
    while (p) {
        struct pending *next = p->next;
        for (int i = 0; i < p->channel->count; i++) append(p->channel->members[i], p->frame, p->frameLength);
        struct connection *publisher = connections[p->publisherFD];
        if (publisher && publisher->id == p->publisherID) {
            char reply[32];
            int n = snprintf(reply, sizeof reply, ":%d\r\n", p->channel->count);
            append(publisher, reply, (size_t)n);
        }
        free(p);
        p = next;
    }
}

static void readable(struct connection *c) {
    ssize_t n = read(c->fd, c->in + c->inLength, INBUF - c->inLength);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) { drop(c); return; }
    c->inLength += (size_t)n;
    size_t start = 0;
    for (;;) {
        long used = parse(c, c->in + start, c->inLength - start);
        if (used < 0 || (used == 0 && c->inLength == INBUF && start == 0)) { drop(c); return; }
        if (used == 0) break;
        start += (size_t)used;
        if (start == c->inLength) break;
    }
    memmove(c->in, c->in + start, c->inLength - start);
    c->inLength -= start;
}

static void watchOut(struct connection *c, int on) {
    if (c->watchingOut == on) return;
    struct epoll_event event = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.fd = c->fd};
    epoll_ctl(epollFD, EPOLL_CTL_MOD, c->fd, &event);
    c->watchingOut = on;
}

// One write for each of the next `slice` connections with output; what the kernel does not take
// waits for EPOLLOUT.
static void flush(void) {
    int end = slice && cursor + slice < dirtyCount ? cursor + slice : dirtyCount;
    for (int i = cursor; i < end; i++) {
        struct connection *c = dirty[i];
        if (!c) continue;
        c->dirty = 0;
        ssize_t n = write(c->fd, c->out, c->outLength);
        if (n < 0 && errno != EAGAIN) { dirty[i] = NULL; drop(c); continue; }
        if (n > 0) { memmove(c->out, c->out + n, c->outLength - (size_t)n); c->outLength -= (size_t)n; }
        watchOut(c, c->outLength > 0);
    }
    cursor = end;
    if (cursor == dirtyCount) { cursor = 0; dirtyCount = 0; }
    else if (cursor >= 4096) { memmove(dirty, dirty + cursor, sizeof *dirty * (dirtyCount - cursor)); dirtyCount -= cursor; cursor = 0; }
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[argc - 2], "--store")) { storePath = argv[argc - 1]; argc -= 2; }
    if (argc < 2 || argc > 3) { fprintf(stderr, "usage: fanout-floor PORT [SLICE] [--store FILE]\n"); return 2; }
    if (argc == 3) slice = atoi(argv[2]);
    if (slice < 0) { fprintf(stderr, "fanout-floor: SLICE is 0 or more\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    dirty = calloc(2 * MAXFDS, sizeof *dirty); // spent entries stay until the pass ends or 4,096 pile up
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (void *)&address, sizeof address) || listen(listener, 4096)) fail("listen");
    epollFD = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
    epoll_ctl(epollFD, EPOLL_CTL_ADD, listener, &event);
    if (storePath) {
        committedFD = eventfd(0, EFD_NONBLOCK);
        struct epoll_event e = {.events = EPOLLIN, .data.fd = committedFD};
        epoll_ctl(epollFD, EPOLL_CTL_ADD, committedFD, &e);
        pthread_t thread;
        if (pthread_create(&thread, NULL, writer, NULL)) fail("pthread_create");
    }
    struct epoll_event events[1024];
    for (;;) {
        int n = epoll_wait(epollFD, events, 1024, dirtyCount ? 0 : -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == committedFD) { deliverCommitted(); continue; }
            if (fd == listener) {
                int client;
                while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (client >= MAXFDS) { close(client); continue; }
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct connection *c = calloc(1, sizeof *c);
                    static unsigned long lastID;
                    c->id = ++lastID;
                    c->fd = client;
                    connections[client] = c;
                    struct epoll_event e = {.events = EPOLLIN, .data.fd = client};
                    epoll_ctl(epollFD, EPOLL_CTL_ADD, client, &e);
                }
                continue;
            }
            struct connection *c = connections[fd];
            if (!c) continue;
            if (events[i].events & EPOLLOUT && !c->dirty) { c->dirty = 1; dirty[dirtyCount++] = c; }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readable(c);
        }
        flush();
    }
}
