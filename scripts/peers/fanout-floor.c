// The "minimal C epoll fan-out server", rebuilt to measure on this machine what the kernel
// leaves for any server of this design: one thread, level-triggered epoll, each broadcast copied
// into every member's output, and one write per connection with output, SLICE connections per
// epoll turn in the order they got output (64 by default, as ActorChat's loop; 0 writes them all
// each turn). It speaks just enough Redis pub/sub (SUBSCRIBE and PUBLISH, inline or as RESP arrays)
// for scripts/peers/loadgen.c --protocol redis. No limits and no error handling beyond dropping a
// connection: a floor, not a server.
//
//   fanout-floor PORT [SLICE]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { INBUF = 1 << 16, MAXCHANNELS = 4096, MAXFDS = 1 << 16 };

struct connection {
    int fd, dirty, watchingOut;
    char in[INBUF]; size_t inLength;
    char *out; size_t outLength, outCapacity;
};

struct channel { char name[64]; struct connection **members; int count, capacity; };

static struct connection *connections[MAXFDS];
static struct channel channels[MAXCHANNELS];
static int channelCount, epollFD;
// Connections with output, in the order they got it; those before `cursor` were written this pass.
static struct connection **dirty;
static int dirtyCount, cursor, slice = 64;

static void fail(const char *what) { perror(what); exit(1); }

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
    if (argc < 2 || argc > 3) { fprintf(stderr, "usage: fanout-floor PORT [SLICE]\n"); return 2; }
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
    struct epoll_event events[1024];
    for (;;) {
        int n = epoll_wait(epollFD, events, 1024, dirtyCount ? 0 : -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int client;
                while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (client >= MAXFDS) { close(client); continue; }
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct connection *c = calloc(1, sizeof *c);
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
