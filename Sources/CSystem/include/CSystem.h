// The few Linux system calls (and glibc malloc_trim) Glibc's Swift module does not expose.
#ifndef CSYSTEM_H
#define CSYSTEM_H

#if defined(__linux__)
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <malloc.h>
#include <spawn.h>

/// accept4(2) needs _GNU_SOURCE, which a Swift module import cannot set; the wrapper lives in CSystem.c.
int csystem_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/// Names the calling thread (pthread_setname_np, also _GNU_SOURCE); Linux refuses over 15 bytes.
int csystem_name_current_thread(const char *name);

/// pidfd_open(2): a descriptor that becomes readable when the process `pid` ends, child or not
/// (glibc has no wrapper before 2.36, and Swift cannot call the variadic syscall(2)).
int csystem_pidfd_open(int pid);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34, _GNU_SOURCE): the child closes every
/// descriptor from `from` up, so nothing of the parent's leaks into what it starts.
int csystem_spawn_close_from(posix_spawn_file_actions_t *actions, int from);
#endif

#endif
