/* alps-app: the six function apps of the ALPS paper (§7.1) as small native programs whose CPU
 * cost grows with one parameter, for real-kernel experiments.
 *   alps-app fib N        naive recursive Fibonacci(N)                       ~ phi^N
 *   alps-app float N      N iterations of sin/cos/sqrt arithmetic            ~ N
 *   alps-app bfs N        BFS over a preferential-attachment graph, N nodes x N edges each ~ N^2
 *   alps-app mst N        Kruskal MST over the same graph with random weights ~ N^2 log N
 *   alps-app pagerank N   20 PageRank iterations over the same graph         ~ N^2
 *   alps-app feature N    tokenise N 10 kB text chunks and count word features ~ N
 * Prints "<app> <N> <result>" (so the work cannot be optimised away), the process's CPU time in ns
 * ("cpu_ns <n>", CLOCK_PROCESS_CPUTIME_ID: exec, dynamic loading and the work) and the work's own
 * CPU time ("work_ns <n>": the same clock read around the work alone). Process start costs
 * several ms of CPU on some hosts, more than a small N's work, so questions about how the work
 * scales with N read work_ns. Deterministic (fixed seeds). Exit 2 on bad input.
 * C is far faster than the artifact's CPython, so parameters for a given cost are larger; the
 * cost models in src/workload/apps.ts describe the Python originals. */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static uint64_t fib(int n) { return n < 2 ? (uint64_t)n : fib(n - 1) + fib(n - 2); }

struct edge { int a, b; double w; };
static int nv, ne;
static struct edge *E;

/* Preferential attachment: node v links to `m` earlier nodes picked ∝ degree (via edge ends). */
static void graph(int n)
{
	int m = n;
	nv = n * 4 > 8 ? n * 4 : 8;
	E = malloc(sizeof(*E) * (size_t)nv * (size_t)m);
	int *ends = malloc(sizeof(int) * (size_t)nv * (size_t)m * 2 + 2);
	int nends = 0;
	ne = 0;
	ends[nends++] = 0;
	for (int v = 1; v < nv; v++)
		for (int k = 0; k < m && k < v * m; k++) {
			int u = ends[next() % (uint64_t)nends];
			E[ne].a = v; E[ne].b = u; E[ne].w = (double)(next() % 1000000) / 1e6;
			ne++;
			ends[nends++] = v; ends[nends++] = u;
		}
	free(ends);
}

static int *adj_off, *adj;
static void csr(void)
{
	adj_off = calloc((size_t)nv + 1, sizeof(int));
	adj = malloc(sizeof(int) * (size_t)ne * 2);
	for (int i = 0; i < ne; i++) { adj_off[E[i].a + 1]++; adj_off[E[i].b + 1]++; }
	for (int v = 0; v < nv; v++) adj_off[v + 1] += adj_off[v];
	int *pos = malloc(sizeof(int) * (size_t)nv);
	memcpy(pos, adj_off, sizeof(int) * (size_t)nv);
	for (int i = 0; i < ne; i++) { adj[pos[E[i].a]++] = E[i].b; adj[pos[E[i].b]++] = E[i].a; }
	free(pos);
}

static double bfs(void)
{
	csr();
	int *dist = malloc(sizeof(int) * (size_t)nv), *q = malloc(sizeof(int) * (size_t)nv);
	for (int v = 0; v < nv; v++) dist[v] = -1;
	int h = 0, t = 0;
	q[t++] = 0; dist[0] = 0;
	long sum = 0;
	while (h < t) {
		int v = q[h++];
		sum += dist[v];
		for (int k = adj_off[v]; k < adj_off[v + 1]; k++)
			if (dist[adj[k]] < 0) { dist[adj[k]] = dist[v] + 1; q[t++] = adj[k]; }
	}
	return (double)sum;
}

static int cmpw(const void *x, const void *y)
{
	double a = ((const struct edge *)x)->w, b = ((const struct edge *)y)->w;
	return (a > b) - (a < b);
}
static int *par;
static int find(int x) { while (par[x] != x) x = par[x] = par[par[x]]; return x; }
static double mst(void)
{
	qsort(E, (size_t)ne, sizeof(*E), cmpw);
	par = malloc(sizeof(int) * (size_t)nv);
	for (int v = 0; v < nv; v++) par[v] = v;
	double total = 0;
	for (int i = 0; i < ne; i++) {
		int a = find(E[i].a), b = find(E[i].b);
		if (a != b) { par[a] = b; total += E[i].w; }
	}
	return total;
}

static double pagerank(void)
{
	csr();
	double *r = malloc(sizeof(double) * (size_t)nv), *nr = malloc(sizeof(double) * (size_t)nv);
	for (int v = 0; v < nv; v++) r[v] = 1.0 / nv;
	for (int it = 0; it < 20; it++) {
		for (int v = 0; v < nv; v++) nr[v] = 0.15 / nv;
		for (int v = 0; v < nv; v++) {
			int d = adj_off[v + 1] - adj_off[v];
			if (!d) continue;
			double share = 0.85 * r[v] / d;
			for (int k = adj_off[v]; k < adj_off[v + 1]; k++) nr[adj[k]] += share;
		}
		double *t = r; r = nr; nr = t;
	}
	return r[0];
}

static double feature(int n)
{
	static const char *words[] = {"the", "function", "serverless", "kernel", "schedule", "slice", "rank", "learn", "policy", "cpu"};
	char *text = malloc(10240 + 1);
	unsigned counts[4096] = {0};
	double distinct = 0;
	for (int c = 0; c < n; c++) {
		int len = 0;
		while (len < 10200) {
			const char *w = words[next() % 10];
			int l = (int)strlen(w);
			memcpy(text + len, w, (size_t)l);
			len += l;
			text[len++] = (next() % 7) ? ' ' : '.';
		}
		text[len] = 0;
		/* tokenise: lower-case alphabetic runs, hashed into feature buckets */
		for (int i = 0; i < len;) {
			while (i < len && !(text[i] >= 'a' && text[i] <= 'z')) i++;
			unsigned h = 2166136261u;
			int start = i;
			while (i < len && text[i] >= 'a' && text[i] <= 'z') h = (h ^ (unsigned char)text[i++]) * 16777619u;
			if (i > start && counts[h & 4095]++ == 0) distinct++;
		}
	}
	free(text);
	return distinct;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: alps-app fib|float|bfs|mst|pagerank|feature N\n");
		return 2;
	}
	char *end;
	long n = strtol(argv[2], &end, 10);
	if (*end || n < 1 || n > 100000000) {
		fprintf(stderr, "alps-app: N: not a positive integer: '%s'\n", argv[2]);
		return 2;
	}
	const char *app = argv[1];
	double res;
	struct timespec t0;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	if (!strcmp(app, "fib")) {
		if (n > 50) { fprintf(stderr, "alps-app: fib N must be <= 50\n"); return 2; }
		res = (double)fib((int)n);
	} else if (!strcmp(app, "float")) {
		double x = 0;
		for (long i = 0; i < n; i++) x += sin((double)i) * cos((double)i) + sqrt((double)i);
		res = x;
	} else if (!strcmp(app, "bfs") || !strcmp(app, "mst") || !strcmp(app, "pagerank")) {
		if (n > 3000) { fprintf(stderr, "alps-app: %s N must be <= 3000\n", app); return 2; }
		graph((int)n);
		res = !strcmp(app, "bfs") ? bfs() : !strcmp(app, "mst") ? mst() : pagerank();
	} else if (!strcmp(app, "feature")) {
		res = feature((int)n);
	} else {
		fprintf(stderr, "alps-app: unknown app '%s'\n", app);
		return 2;
	}
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	long long total = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	long long before = (long long)t0.tv_sec * 1000000000LL + t0.tv_nsec;
	printf("%s %ld %.6g\ncpu_ns %lld\nwork_ns %lld\n", app, n, res, total, total - before);
	return 0;
}
