#define _GNU_SOURCE
#include "CSystem.h"

#if defined(__linux__)
int csystem_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    return accept4(fd, address, length, flags);
}
#endif
