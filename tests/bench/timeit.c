// SPDX-License-Identifier: GPL-2.0-only
/* timeit: run one command and write its wall time and peak RSS, for the benchmark.
 *
 *   timeit OUT CMD [ARG...]
 *
 * writes "WALL_S<TAB>PEAK_RSS_KB" to OUT and exits with CMD's status (128 + the signal
 * if it was killed). The clock starts just before fork and stops when wait4 returns, so
 * the time is the command's own start, run and exit, with no second program started
 * around it (GNU time's %e has 10 ms resolution, and timing /usr/bin/time from the shell
 * adds its own exec). The peak RSS is the child's ru_maxrss, as GNU time's %M reports it.
 * stdin, stdout and stderr are the caller's. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	double t0, t1;
	FILE *out;
	pid_t pid;
	int status;

	if (argc < 3) {
		fprintf(stderr, "usage: timeit OUT CMD [ARG...]\n");
		return 2;
	}
	t0 = now_s();
	pid = fork();
	if (pid < 0) {
		perror("timeit: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "timeit: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("timeit: wait4");
			return 2;
		}
	t1 = now_s();
	out = fopen(argv[1], "w");
	if (!out || fprintf(out, "%.6f\t%ld\n", t1 - t0, ru.ru_maxrss) < 0 || fclose(out)) {
		fprintf(stderr, "timeit: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
