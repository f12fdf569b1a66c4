/*
 * LD_PRELOAD shim: a wildcard bind(2) becomes a loopback bind.
 *
 * DynamoDB Local has no option for its listen address and binds every interface.  Our local
 * servers listen on 127.0.0.1 only, so the stack starts it with this shim (and
 * -Djava.net.preferIPv4Stack=true, so the JVM binds AF_INET sockets).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

int bind(int fd, const struct sockaddr *addr, socklen_t len);

int
bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    static int (*real_bind)(int, const struct sockaddr *, socklen_t);
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;

    if (!real_bind)
        real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
    if (addr && addr->sa_family == AF_INET && len >= sizeof(v4)) {
        memcpy(&v4, addr, sizeof(v4));
        if (v4.sin_addr.s_addr == htonl(INADDR_ANY)) {
            v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            return real_bind(fd, (const struct sockaddr *)&v4, sizeof(v4));
        }
    } else if (addr && addr->sa_family == AF_INET6 && len >= sizeof(v6)) {
        memcpy(&v6, addr, sizeof(v6));
        if (memcmp(&v6.sin6_addr, &in6addr_any, sizeof(in6addr_any)) == 0) {
            v6.sin6_addr = in6addr_loopback;
            return real_bind(fd, (const struct sockaddr *)&v6, sizeof(v6));
        }
    }
    return real_bind(fd, addr, len);
}
