/* alps-burn: a parameterised function body for tests and the real-workload invoker.
 *   alps-burn CPU_MS [SLEEP_MS [ROUNDS]]
 * Each round burns CPU_MS of this thread's CPU time (measured with CLOCK_THREAD_CPUTIME_ID,
 * so contention stretches wall time, not work) and then sleeps SLEEP_MS. Exit 0.
 * With ALPS_BURN_REPORT=1 it prints its own /proc/self/schedstat run time just before exit;
 * with ALPS_BURN_END=LABEL it prints "end LABEL <CLOCK_MONOTONIC ns>" when its work is done. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double parse_ms(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || v < 0 || v > 3600e3) {
		fprintf(stderr, "alps-burn: %s: not a duration in ms: '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: alps-burn CPU_MS [SLEEP_MS [ROUNDS]]\n");
		return 2;
	}
	double cpu_ms = parse_ms(argv[1], "CPU_MS");
	double sleep_ms = argc > 2 ? parse_ms(argv[2], "SLEEP_MS") : 0;
	long rounds = argc > 3 ? (long)parse_ms(argv[3], "ROUNDS") : 1;
	volatile unsigned long sink = 0;
	for (long r = 0; r < rounds; r++) {
		long long until = cpu_ns() + (long long)(cpu_ms * 1e6);
		while (cpu_ns() < until)
			for (int i = 0; i < 2000; i++) sink += (unsigned long)i * 2654435761UL;
		if (sleep_ms > 0) {
			struct timespec ts = { (time_t)(sleep_ms / 1000), (long)((sleep_ms - (long)(sleep_ms / 1000) * 1000) * 1e6) };
			nanosleep(&ts, NULL);
		}
	}
	const char *label = getenv("ALPS_BURN_END");
	if (label) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		printf("end %s %lld\n", label, (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
		fflush(stdout);
	}
	if (getenv("ALPS_BURN_REPORT")) {
		FILE *f = fopen("/proc/self/schedstat", "r");
		unsigned long long run = 0, wait = 0;
		if (f && fscanf(f, "%llu %llu", &run, &wait) == 2) printf("schedstat %llu %llu\n", run, wait);
		if (f) fclose(f);
	}
	return (int)(sink & 0);
}
