/* ghost-scx-task: a scripted task for the ghOSt-on-sched_ext tests. Each argument is one step:
 *   e     enter the enclave: sched_setscheduler(0, SCHED_EXT)   o   leave it (SCHED_OTHER)
 *   bN    burn N ms of this thread's CPU time                     sN  sleep N ms
 *   y     sched_yield()                                           aC  pin to CPU C
 *   w     wait for a line on stdin (the test's go-ahead)          m   print "mark <step> <ns>"
 *   x     exec the remaining arguments (e.g. `e x sh -c ...`: a command in the enclave)
 * Starts with affinity to every CPU. Prints "pid <tid>" first and "done <tid>" at the end, so the test can tell the steps apart.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("pid %d\n", gettid());
	/* Start unpinned: a parent that became a ghOSt agent is pinned to its CPU, and a child
	 * inherits that (use aC to pin on purpose). */
	cpu_set_t all;
	CPU_ZERO(&all);
	for (int c = 0; c < CPU_SETSIZE && c < sysconf(_SC_NPROCESSORS_CONF); c++)
		CPU_SET(c, &all);
	sched_setaffinity(0, sizeof all, &all);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		long v = strtol(a + 1, NULL, 10);
		struct sched_param sp = {0};
		switch (a[0]) {
		case 'e':
			if (sched_setscheduler(0, 7, &sp)) { perror("sched_setscheduler(SCHED_EXT)"); return 3; }
			break;
		case 'o':
			if (sched_setscheduler(0, SCHED_OTHER, &sp)) { perror("sched_setscheduler(SCHED_OTHER)"); return 3; }
			break;
		case 'b': {
			long long end = ns(CLOCK_THREAD_CPUTIME_ID) + v * 1000000LL;
			while (ns(CLOCK_THREAD_CPUTIME_ID) < end)
				;
			break;
		}
		case 's': {
			struct timespec t = {v / 1000, (v % 1000) * 1000000L};
			nanosleep(&t, NULL);
			break;
		}
		case 'y':
			sched_yield();
			break;
		case 'a': {
			cpu_set_t s;
			CPU_ZERO(&s);
			CPU_SET((int)v, &s);
			if (sched_setaffinity(0, sizeof s, &s)) { perror("sched_setaffinity"); return 3; }
			break;
		}
		case 'w': {
			char line[16];
			if (!fgets(line, sizeof line, stdin)) return 4;
			break;
		}
		case 'x':
			if (i + 1 >= argc) { fprintf(stderr, "ghost-scx-task: x needs a command\n"); return 2; }
			execvp(argv[i + 1], argv + i + 1);
			perror(argv[i + 1]);
			return 127;
		case 'm':
			printf("mark %d %lld\n", i, ns(CLOCK_MONOTONIC));
			break;
		default:
			fprintf(stderr, "ghost-scx-task: bad step '%s'\n", a);
			return 2;
		}
	}
	printf("done %d\n", gettid());
	return 0;
}
