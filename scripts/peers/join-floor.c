// The floor of issue #23's join storm: a minimal C epoll server speaking just enough of ActorChat's
// protocol (login, create_room, join, ping) for `loadgen --scenario connections`, and sending what
// ActorChat sends for them, byte for byte in shape: a `welcome` carrying the room list, a `joined`
// carrying the member list, and a `user_joined` to every member already in the room. One thread,
// level-triggered epoll; each connection's output is written once per turn, after the turn's reads
// (so a member's notices from one turn leave in one write, as ActorChat coalesces them). No limits,
// no validation, no JSON parser beyond finding a field, and a member who disconnects stays in its
// room's name list (the storm has no departures): a floor, not a server.
//
//   join-floor PORT
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { INBUF = 1 << 12, MAXROOMS = 4096, MAXFDS = 1 << 17, NAME = 72 };

struct connection {
    int fd, dirty, watchingOut;
    char name[NAME];
    char in[INBUF]; size_t inLength;
    char *out; size_t outLength, outCapacity;
};

// A room keeps its member list as `joined` carries it ("a","b",…), so a join appends a name
// rather than writing out the whole list again.
struct room {
    char name[NAME]; int limit, count, capacity; struct connection **members;
    char *memberJSON; size_t memberLength, memberCapacity;
};

static struct connection *connections[MAXFDS];
static struct room rooms[MAXROOMS];
static int roomCount, epollFD, nextUserID = 1;
// The room list as `welcome` carries it, written again only after a room changed.
static char directory[1 << 20];
static size_t directoryLength;
static int directoryStale = 1;
static struct connection **dirty;
static int dirtyCount;

static void fail(const char *what) { perror(what); exit(1); }

static void append(struct connection *c, const char *bytes, size_t length) {
    if (c->outLength + length > c->outCapacity) {
        c->outCapacity = (c->outLength + length) * 2;
        c->out = realloc(c->out, c->outCapacity);
        if (!c->out) fail("realloc");
    }
    memcpy(c->out + c->outLength, bytes, length);
    c->outLength += length;
    if (!c->dirty) { c->dirty = 1; dirty[dirtyCount++] = c; }
}

// Copies the string value of `"key":"…"` in `line` into `value`; 0 when absent.
static int field(const char *line, size_t length, const char *key, char *value, size_t size) {
    char pattern[32];
    int n = snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *at = memmem(line, length, pattern, (size_t)n);
    if (!at) return 0;
    at += n;
    const char *end = memchr(at, '"', (size_t)(line + length - at));
    if (!end || (size_t)(end - at) >= size) return 0;
    memcpy(value, at, (size_t)(end - at));
    value[end - at] = 0;
    return 1;
}

// The request's `"id":…` as written, with its comma in front, or "" when it has none.
static void idSuffix(const char *line, size_t length, char *suffix, size_t size) {
    suffix[0] = 0;
    const char *at = memmem(line, length, "\"id\":", 5);
    if (!at) return;
    const char *end = at + 5;
    while (end < line + length && *end != ',' && *end != '}') end++;
    snprintf(suffix, size, ",%.*s", (int)(end - at), at);
}

static struct room *findRoom(const char *name) {
    for (int i = 0; i < roomCount; i++) if (!strcmp(rooms[i].name, name)) return &rooms[i];
    return NULL;
}

static struct room *addRoom(const char *name, int limit) {
    if (roomCount == MAXROOMS) return NULL;
    struct room *r = &rooms[roomCount++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->limit = limit;
    return r;
}

static size_t roomInfo(char *out, const struct room *r) {
    return (size_t)sprintf(out, "{\"name\":\"%s\",\"limit\":%d,\"count\":%d}", r->name, r->limit, r->count);
}

static void addMemberName(struct room *r, const char *name) {
    size_t length = strlen(name), needed = r->memberLength + length + 3;
    if (needed > r->memberCapacity) {
        r->memberCapacity = needed * 2;
        r->memberJSON = realloc(r->memberJSON, r->memberCapacity);
    }
    char *at = r->memberJSON + r->memberLength;
    if (r->memberLength) *at++ = ',';
    *at++ = '"';
    memcpy(at, name, length);
    at[length] = '"';
    r->memberLength = (size_t)(at + length + 1 - r->memberJSON);
}

static void request(struct connection *c, const char *line, size_t length) {
    static char reply[1 << 20];
    char event[32], name[NAME], id[64];
    if (!field(line, length, "event", event, sizeof event)) return;
    idSuffix(line, length, id, sizeof id);
    size_t n = 0;
    if (!strcmp(event, "login") && field(line, length, "name", name, sizeof name)) {
        snprintf(c->name, sizeof c->name, "%s", name);
        if (directoryStale) {
            directoryLength = 0;
            for (int i = 0; i < roomCount; i++) {
                if (i) directory[directoryLength++] = ',';
                directoryLength += roomInfo(directory + directoryLength, &rooms[i]);
            }
            directoryStale = 0;
        }
        n = (size_t)sprintf(reply, "{\"event\":\"welcome\",\"params\":{\"user\":{\"id\":%d,\"name\":\"%s\",\"admin\":false},\"rooms\":[", nextUserID++, name);
        memcpy(reply + n, directory, directoryLength);
        n += directoryLength;
        n += (size_t)sprintf(reply + n, "]}%s}\n", id);
    } else if (!strcmp(event, "create_room") && field(line, length, "room", name, sizeof name)) {
        const char *limit = memmem(line, length, "\"limit\":", 8);
        struct room *r = addRoom(name, limit ? atoi(limit + 8) : 1000);
        if (!r) return;
        directoryStale = 1;
        n = (size_t)sprintf(reply, "{\"event\":\"room_created\",\"params\":{\"room\":");
        n += roomInfo(reply + n, r);
        n += (size_t)sprintf(reply + n, "}%s}\n", id);
    } else if (!strcmp(event, "join") && field(line, length, "room", name, sizeof name)) {
        struct room *r = findRoom(name);
        if (!r) return;
        char notice[256];
        int noticeLength = snprintf(notice, sizeof notice, "{\"event\":\"user_joined\",\"params\":{\"room\":\"%s\",\"user\":\"%s\"}}\n", r->name, c->name);
        for (int i = 0; i < r->count; i++) append(r->members[i], notice, (size_t)noticeLength);
        if (r->count == r->capacity) {
            r->capacity = r->capacity ? r->capacity * 2 : 16;
            r->members = realloc(r->members, sizeof *r->members * (size_t)r->capacity);
        }
        if (r->memberLength + 1024 > sizeof reply) return; // past what one reply holds: not a storm's room
        r->members[r->count++] = c;
        addMemberName(r, c->name);
        directoryStale = 1;
        n = (size_t)sprintf(reply, "{\"event\":\"joined\",\"params\":{\"room\":");
        n += roomInfo(reply + n, r);
        n += (size_t)sprintf(reply + n, ",\"members\":[");
        memcpy(reply + n, r->memberJSON, r->memberLength);
        n += r->memberLength;
        n += (size_t)sprintf(reply + n, "],\"seq\":0,\"roles\":{}}%s}\n", id);
    } else if (!strcmp(event, "ping")) {
        n = (size_t)sprintf(reply, "{\"event\":\"pong\",\"params\":{}%s}\n", id);
    } else {
        n = (size_t)sprintf(reply, "{\"event\":\"error\",\"params\":{\"code\":\"unknown_event\"}%s}\n", id);
    }
    append(c, reply, n);
}

static void watchOut(struct connection *c, int on) {
    if (c->watchingOut == on) return;
    struct epoll_event event = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.fd = c->fd};
    epoll_ctl(epollFD, EPOLL_CTL_MOD, c->fd, &event);
    c->watchingOut = on;
}

static void drop(struct connection *c) {
    for (int i = 0; i < roomCount; i++) {
        struct room *r = &rooms[i];
        for (int j = 0; j < r->count; j++) if (r->members[j] == c) { r->members[j] = r->members[--r->count]; break; }
    }
    for (int i = 0; i < dirtyCount; i++) if (dirty[i] == c) dirty[i] = NULL;
    connections[c->fd] = NULL;
    close(c->fd);
    free(c->out);
    free(c);
}

static void flush(struct connection *c) {
    c->dirty = 0;
    while (c->outLength > 0) {
        ssize_t n = write(c->fd, c->out, c->outLength);
        if (n < 0 && errno == EAGAIN) { watchOut(c, 1); return; }
        if (n <= 0) { drop(c); return; }
        memmove(c->out, c->out + n, c->outLength - (size_t)n);
        c->outLength -= (size_t)n;
    }
    watchOut(c, 0);
}

static void readable(struct connection *c) {
    ssize_t n = read(c->fd, c->in + c->inLength, INBUF - c->inLength);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) { drop(c); return; }
    size_t length = c->inLength + (size_t)n, start = 0;
    for (char *newline; (newline = memchr(c->in + start, '\n', length - start)); start = (size_t)(newline - c->in) + 1) {
        request(c, c->in + start, (size_t)(newline - c->in) - start);
    }
    memmove(c->in, c->in + start, length - start);
    c->inLength = length - start;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: join-floor PORT\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    // A connection flushed on EPOLLOUT may be queued again in the same turn: room for two each.
    dirty = calloc(2 * MAXFDS, sizeof *dirty);
    addRoom("lobby", 1000); // ActorChat's default room: its `welcome` lists it too
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (void *)&address, sizeof address) || listen(listener, 4096)) fail("listen");
    epollFD = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
    epoll_ctl(epollFD, EPOLL_CTL_ADD, listener, &event);
    struct epoll_event events[512];
    for (;;) {
        int count = epoll_wait(epollFD, events, 512, -1);
        for (int i = 0; i < count; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int client;
                while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (client >= MAXFDS) { close(client); continue; }
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct connection *c = calloc(1, sizeof *c);
                    c->fd = client;
                    connections[client] = c;
                    struct epoll_event watch = {.events = EPOLLIN, .data.fd = client};
                    epoll_ctl(epollFD, EPOLL_CTL_ADD, client, &watch);
                }
                continue;
            }
            struct connection *c = connections[fd];
            if (!c) continue;
            if (events[i].events & EPOLLOUT) flush(c);
            else readable(c);
        }
        for (int i = 0; i < dirtyCount; i++) if (dirty[i] && dirty[i]->dirty) flush(dirty[i]);
        dirtyCount = 0;
    }
}
