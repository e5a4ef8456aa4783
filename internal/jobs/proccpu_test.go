package jobs_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// serviceCPU sums the CPU time (user and system) of every running process
// whose command name is one of names, read from /proc. The benches print
// it next to their own process's CPU so that a slow run says where the two
// cores went: PostgreSQL and Redis share them with the pipeline. A backend
// that exits between two readings takes its time with it, so the figure is
// a floor; the pools keep their connections for the whole run.
func serviceCPU(names ...string) map[string]time.Duration {
	out := map[string]time.Duration{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		comm := s[open+1 : closing]
		for _, name := range names {
			if comm != name {
				continue
			}
			// Fields after the command: state is field 3, utime 14, stime 15.
			f := strings.Fields(s[closing+1:])
			if len(f) < 13 {
				continue
			}
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			// USER_HZ is 100 on every Linux this runs on.
			out[name] += time.Duration(ut+st) * 10 * time.Millisecond
		}
	}
	return out
}
