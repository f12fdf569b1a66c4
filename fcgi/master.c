#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "../lib/cfg.h"
#include "../lib/log.h"
#include "../lib/mem.h"
#include "../lib/metrics.h"
#include "../lib/ssm.h"
#include "master.h"
#include "routes.h"
#include "worker.h"

#define MAX_SLOTS 512              /* 2 x the largest PRODENTHUB_WORKERS: room for reloads */
#define MAX_BACKOFF_S 10.0
#define NEW_WORKER_READY_S 5.0     /* how long a reload waits for a new worker to be ready */

enum proc_state { P_FREE = 0, P_RUNNING, P_RETIRING };

struct proc {
    pid_t pid;
    enum proc_state state;
    unsigned gen;
    double started;
    double deadline;               /* for P_RETIRING: SIGKILL after this */
};

struct master {
    struct cfg *cfg;
    const char *cfg_path;
    int cfg_required;
    int listen_fd;
    struct proc procs[MAX_SLOTS];
    struct sb_slot *sb;
    unsigned gen;
    int fail_streak;
    double next_spawn;
    int replacing_old;             /* reload in progress: old slot to retire ... */
    int replacing_new;             /* ... once this new slot is ready; -1 when idle */
    int stopping;
    double stop_deadline;
};

static double
now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * PRODENTHUB_WORKERS=0: WORKERS_PER_CPU per online CPU.  A worker blocks on memcached,
 * DynamoDB and Stripe, so a pool of one per CPU leaves the CPUs idle while it waits: on 2
 * CPUs, 8 workers answer 300 simultaneous purchases (Stripe taking 0.3 s a session) in 6 s
 * where 2 take 21 s, and a cached coupons/validate at 0.85 of the FastCGI ceiling where 2
 * reach 0.61 (bench/README.md); more than 8 gain nothing there.  A worker costs about 1 MB
 * of private memory (PSS).
 */
#define WORKERS_PER_CPU 4

static long
nworkers(const struct cfg *cfg)
{
    long n = cfg->workers;

    if (n <= 0) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
        n = n > 0 ? n * WORKERS_PER_CPU : 8;
    }
    return n > MAX_SLOTS / 2 ? MAX_SLOTS / 2 : n;
}

static int
open_listen(const struct cfg *cfg)
{
    const char *path = cfg->listen;
    struct stat st;
    int fd;

    /* A socket file left by a previous run would make bind fail; nothing else is removed. */
    if (path[0] == '/' && stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    fd = FCGX_OpenSocket(path, (int)cfg->backlog);
    if (fd < 0)
        fatal("cannot listen on %s", path);
    /* Non-blocking, so a worker that loses the race for a connection is not stuck in
     * accept() (see worker.c). */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
        fatal("fcntl O_NONBLOCK on the listen socket");
    if (path[0] == '/' && chmod(path, (mode_t)cfg->socket_mode) != 0)
        fatal("chmod %s", path);
    return fd;
}

static int
spawn(struct master *m)
{
    pid_t pid;
    int slot;

    for (slot = 0; slot < MAX_SLOTS; slot++) {
        if (m->procs[slot].state == P_FREE)
            break;
    }
    if (slot == MAX_SLOTS) {
        log_msg(LL_ERROR, "no free worker slot");
        return -1;
    }
    memset(&m->sb[slot], 0, sizeof(m->sb[slot]));
    /* The slot's counters are not cleared: the new worker carries on from the old one's. */
    metrics_slot_used((size_t)slot);
    pid = fork();
    if (pid < 0) {
        log_warn("fork");
        m->next_spawn = now_s() + 1.0;
        return -1;
    }
    if (pid == 0)
        worker_main(slot, m->listen_fd, m->cfg, &m->sb[slot]);
    m->procs[slot].pid = pid;
    m->procs[slot].state = P_RUNNING;
    m->procs[slot].gen = m->gen;
    m->procs[slot].started = now_s();
    LOG(LL_INFO, "started worker pid=%ld slot=%d generation=%u", (long)pid, slot, m->gen);
    return slot;
}

static void
retire(struct master *m, int slot)
{
    struct proc *p = &m->procs[slot];

    kill(p->pid, SIGTERM);
    p->state = P_RETIRING;
    p->deadline = now_s() + (double)m->cfg->shutdown_timeout;
}

static int
count_state(const struct master *m, enum proc_state st)
{
    int i, n = 0;

    for (i = 0; i < MAX_SLOTS; i++)
        n += m->procs[i].state == st;
    return n;
}

static void
reap(struct master *m)
{
    int status, i;
    pid_t pid;

    for (;;) {
        struct proc *p = NULL;
        struct sb_slot *s;
        char how[64];
        double lived;

        pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            break;
        for (i = 0; i < MAX_SLOTS; i++) {
            if (m->procs[i].state != P_FREE && m->procs[i].pid == pid) {
                p = &m->procs[i];
                break;
            }
        }
        if (!p)
            continue;
        s = &m->sb[i];
        lived = now_s() - p->started;
        if (WIFSIGNALED(status))
            snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
        else
            snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));

        if (p->state == P_RUNNING && !m->stopping) {
            metrics_restart();
            if (s->busy)
                log_msg(LL_ERROR, "worker pid=%ld %s while serving route=%s request_id=%s "
                        "after %lu requests in %.1f s", (long)pid, how, s->route,
                        s->request_id, s->requests, lived);
            else
                log_msg(LL_ERROR, "worker pid=%ld %s while %s after %lu requests in %.1f s",
                        (long)pid, how, s->ready ? "idle" : "starting", s->requests, lived);
            /*
             * Workers that die before they are ready are failing to start (a setting, a
             * missing file): back off before the next.  A worker that was serving, killed
             * or crashed on a request, is replaced at once, however young: backing off then
             * would leave the pool short while its queue of connections waits (a worker
             * killed every few hundred milliseconds once emptied the pool for seconds).
             */
            m->fail_streak = !s->ready ? m->fail_streak + 1 : 0;
            if (m->fail_streak > 0) {
                double b = 0.1 * (double)(1 << (m->fail_streak > 8 ? 8 : m->fail_streak - 1));

                m->next_spawn = now_s() + (b > MAX_BACKOFF_S ? MAX_BACKOFF_S : b);
                if (m->fail_streak > 1)
                    log_msg(LL_WARN, "workers keep failing to start; next start in %.1f s",
                            m->next_spawn - now_s());
            }
        } else {
            LOG(LL_INFO, "worker pid=%ld %s after %lu requests", (long)pid, how, s->requests);
        }
        p->state = P_FREE;
        p->pid = 0;
        if (m->replacing_new == i)
            m->replacing_new = -1;
    }
}

/* One step of a rolling reload: start a new worker, retire one old one once it is ready. */
static int
reload_step(struct master *m, long want)
{
    int i, old = -1;

    if (m->replacing_new >= 0) {
        struct proc *n = &m->procs[m->replacing_new];

        if (!m->sb[m->replacing_new].ready && now_s() - n->started < NEW_WORKER_READY_S)
            return 1;
        if (m->procs[m->replacing_old].state == P_RUNNING)
            retire(m, m->replacing_old);
        m->replacing_new = -1;
        return 1;
    }
    for (i = 0; i < MAX_SLOTS && old < 0; i++) {
        if (m->procs[i].state == P_RUNNING && m->procs[i].gen != m->gen)
            old = i;
    }
    if (old < 0)
        return 0;
    if (count_state(m, P_RUNNING) > want) {
        retire(m, old);
        return 1;
    }
    if (now_s() < m->next_spawn)
        return 1;
    m->replacing_new = spawn(m);
    m->replacing_old = old;
    return 1;
}

static void
maintain(struct master *m)
{
    long want = nworkers(m->cfg);
    int i, running;

    if (reload_step(m, want))
        return;
    running = count_state(m, P_RUNNING);
    while (running < want && now_s() >= m->next_spawn) {
        if (spawn(m) < 0)
            break;
        running++;
    }
    for (i = MAX_SLOTS - 1; i >= 0 && running > want; i--) {
        if (m->procs[i].state == P_RUNNING) {
            retire(m, i);
            running--;
        }
    }
}

static void
kill_overdue(struct master *m)
{
    double t = now_s();
    int i;

    for (i = 0; i < MAX_SLOTS; i++) {
        struct proc *p = &m->procs[i];

        if (p->state == P_FREE)
            continue;
        if ((p->state == P_RETIRING && t > p->deadline) || (m->stopping && t > m->stop_deadline)) {
            log_msg(LL_WARN, "worker pid=%ld did not stop in time; killing it", (long)p->pid);
            kill(p->pid, SIGKILL);
            p->deadline = t + 3600;
        }
    }
}

static void
reload(struct master *m)
{
    struct cfg nc;
    char err[512];

    if (cfg_load(&nc, m->cfg_path, m->cfg_required, err, sizeof(err)) != 0) {
        log_msg(LL_ERROR, "reload refused, keeping the running configuration: %s", err);
        return;
    }
    if (ssm_resolve_cfg(&nc, err, sizeof(err)) != 0) {
        log_msg(LL_ERROR, "reload refused, keeping the running configuration: %s", err);
        cfg_free(&nc);
        return;
    }
    if (cfg_load_rules(&nc, err, sizeof(err)) != 0) {
        log_msg(LL_ERROR, "reload refused, keeping the running rules: %s", err);
        cfg_free(&nc);
        return;
    }
    if (strcmp(nc.listen, m->cfg->listen) != 0) {
        log_msg(LL_WARN, "PRODENTHUB_LISTEN changed; a new listen address needs a restart");
        free(nc.listen);
        nc.listen = xstrdup(m->cfg->listen);
    }
    cfg_free(m->cfg);
    *m->cfg = nc;
    log_level_min = log_level_parse(m->cfg->log_level);
    m->gen++;
    m->fail_streak = 0;
    m->next_spawn = 0;
    log_msg(LL_INFO, "configuration reloaded; replacing workers (generation %u)", m->gen);
}

static void
begin_stop(struct master *m, int sig)
{
    int i;

    if (m->stopping) {
        m->stop_deadline = 0;     /* a second signal: stop now */
        return;
    }
    log_msg(LL_INFO, "signal %d: stopping; in-flight requests get %ld s", sig,
            m->cfg->shutdown_timeout);
    m->stopping = 1;
    m->stop_deadline = now_s() + (double)m->cfg->shutdown_timeout;
    for (i = 0; i < MAX_SLOTS; i++) {
        if (m->procs[i].state != P_FREE) {
            kill(m->procs[i].pid, SIGTERM);
            m->procs[i].state = P_RETIRING;
            m->procs[i].deadline = m->stop_deadline;
        }
    }
}

int
master_run(struct cfg *cfg, const char *cfg_path, int cfg_required)
{
    static struct master m;
    struct timespec tick = {0, 100 * 1000 * 1000};
    sigset_t set;
    int sig;

    log_set_role("master");
    memset(&m, 0, sizeof(m));
    m.cfg = cfg;
    m.cfg_path = cfg_path;
    m.cfg_required = cfg_required;
    m.replacing_new = -1;
    m.sb = mmap(NULL, MAX_SLOTS * sizeof(struct sb_slot), PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m.sb == MAP_FAILED)
        fatal("mmap scoreboard");
    if (metrics_create(MAX_SLOTS) != 0)
        fatal("mmap metrics");
    metrics_set_routes(route_label);

    /* Signals are taken synchronously with sigtimedwait: no handler races in the master. */
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (FCGX_Init() != 0)
        fatalx("FCGX_Init failed");
    m.listen_fd = open_listen(cfg);
    log_msg(LL_INFO, "listening on %s with %ld workers (stage %s)", cfg->listen, nworkers(cfg),
            cfg->stage);

    for (;;) {
        if (!m.stopping)
            maintain(&m);
        sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT)
            begin_stop(&m, sig);
        else if (sig == SIGHUP && !m.stopping)
            reload(&m);
        reap(&m);
        kill_overdue(&m);
        if (m.stopping && count_state(&m, P_RUNNING) + count_state(&m, P_RETIRING) == 0)
            break;
    }
    close(m.listen_fd);
    if (cfg->listen[0] == '/')
        unlink(cfg->listen);
    munmap(m.sb, MAX_SLOTS * sizeof(struct sb_slot));
    metrics_destroy();
    log_msg(LL_INFO, "stopped");
    return 0;
}
