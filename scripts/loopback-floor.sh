#!/usr/bin/env bash
# What the kernel alone charges for one message over loopback TCP on this machine: a C program
# sends a line over a connected pair of sockets and reads it back, one thread, warm caches, and
# prints the nanoseconds each call took. No server is involved: it is the floor under every
# figure scripts/loadtest.sh prints, since each delivery costs at least one send and one read.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/floor.c" <<'C'
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(void) {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    if (bind(listener, (void *)&address, sizeof address) || listen(listener, 1)
        || getsockname(listener, (void *)&address, &length)) { perror("listen"); return 1; }
    int client = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(client, (void *)&address, sizeof address)) { perror("connect"); return 1; }
    int server = accept(listener, 0, 0);
    int one = 1;
    setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    static char line[2000], sink[65536];
    memset(line, 'x', sizeof line);
    for (int size = 200; size <= 2000; size *= 10) {
        const int rounds = 200000;
        double sending = 0, reading = 0;
        for (int i = 0; i < rounds; i++) {
            double start = now();
            send(server, line, size, 0);
            double sent = now();
            recv(client, sink, sizeof sink, 0);
            reading += now() - sent;
            sending += sent - start;
        }
        printf("loopback TCP, %4d bytes: send %.0f ns, read %.0f ns\n", size, sending / rounds, reading / rounds);
    }
    return 0;
}
C
cc -O2 -o "$work/floor" "$work/floor.c"
"$work/floor"
