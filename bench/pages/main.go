// Command pages benchmarks the pages Mend's people use most on a practice
// of 5,000 pairs and about 1,000,000 check-ins, against the stack's
// cheapest page (../shared/bench/baseline) in the same run:
//
//	go run ./bench/pages                 # seeds mend_bench once a day (a few minutes), then measures
//	go run ./bench/pages -d 10s -rounds 3 -only homework,dashboard-cold
//
// The web process is Mend's server as deployed, in a child process of its
// own (so its RSS is its own), on a database handle that counts the
// statements it sends; a second child reads the dashboard on every request
// (DASHBOARD_CACHE=0). The check-ins, feedback and safety text of the
// measured pairs is real text sealed with Mend's vault, so the pages that
// show it decrypt it. Every pair of counselors 1–32 answered a measure
// weekly (issue 20); the pages that show measures are measured again on
// counselor 33's pairs, which have none ("-nomeasures" keys), in the same
// run. For each page it prints:
//
//   - the server time (median, p99) over -n sequential requests, and the
//     SQL statements per request (queries, prepared executions,
//     preparations, BEGIN/COMMIT);
//   - requests/s with -c concurrent clients (each its own person and
//     session) for -d, as a ratio to the baseline's requests/s measured
//     right before or after it; the page and the baseline alternate in
//     order from round to round (-rounds), and the ratio printed is the
//     median over the rounds;
//
// and at the end the RSS of the web processes. Every request asks for its
// page as a browser does (see browserEncodings). Everything listens on
// 127.0.0.1 only and stops when the program ends.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/consent"
)

func main() {
	dsn := flag.String("db", "postgres://postgres@127.0.0.1:5432/mend_bench?sslmode=disable", "the benchmark's own database (created and seeded if empty or seeded on another day)")
	n := flag.Int("n", 60, "sequential requests per page")
	conc := flag.Int("c", 32, "concurrent clients")
	dur := flag.Duration("d", 6*time.Second, "duration of each concurrent run")
	warm := flag.Duration("warm", 2*time.Second, "warm-up before each concurrent run (not measured)")
	rounds := flag.Int("rounds", 2, "alternated rounds of page and baseline runs")
	baseline := flag.String("baseline", "/work/shared/bench/baseline", "directory of the baseline server")
	reseed := flag.Bool("reseed", false, "drop and seed the database again")
	only := flag.String("only", "", "comma-separated page keys to measure (default all)")
	port := flag.Int("port", 18600, "first of the loopback ports the servers use (five)")
	profile := flag.String("profile", "", "directory: save a CPU and a heap profile of the web process during each page's first concurrent run (<page>.cpu.pprof, <page>.heap.pprof)")
	explain := flag.Bool("explain", false, "print EXPLAIN ANALYZE of the dashboard's pairs statement for -explain-as and exit")
	explainAs := flag.String("explain-as", "counselor1@bench.example", "the counselor whose dashboard -explain reads (counselor33@bench.example: pairs without measures)")
	// The child: the web process.
	serveAddr := flag.String("serve", "", "internal: run the web process on this address")
	statsAddr := flag.String("stats", "", "internal: the web process's statistics address")
	key := flag.String("key", "", "internal: the master key")
	dashboards := flag.Int("dashboards", 500, "internal: kept dashboards")
	flag.Parse()
	log.SetFlags(0)
	if *serveAddr != "" {
		serve(*dsn, *serveAddr, *statsAddr, *key, *dashboards)
		return
	}
	ctx := context.Background()
	started := time.Now()
	masterKey, err := prepare(ctx, *dsn, *reseed)
	if err != nil {
		log.Fatal(err)
	}
	if *explain {
		if err := explainDashboard(ctx, *dsn, *explainAs); err != nil {
			log.Fatal(err)
		}
		return
	}
	d, err := sqlx.Open("postgres", *dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()

	kept, stopKept := startWeb(*dsn, masterKey, *port, 500)
	defer stopKept()
	cold, stopCold := startWeb(*dsn, masterKey, *port+2, 0)
	defer stopCold()
	bl, stopBaseline, err := startBaseline(*baseline, *dsn, fmt.Sprintf("127.0.0.1:%d", *port+4))
	if err != nil {
		log.Fatalf("baseline: %v", err)
	}
	defer stopBaseline()

	pages, err := setUp(ctx, d, kept, cold, *conc)
	if err != nil {
		log.Fatal(err)
	}
	if *only != "" {
		keep := strings.Split(*only, ",")
		pages = slices.DeleteFunc(pages, func(p *page) bool { return !slices.Contains(keep, p.key) })
	}
	var bclients []*client
	for range *conc {
		bclients = append(bclients, &client{base: bl, http: newHTTP()})
	}
	itemGet := func(c *client, r *rand.Rand) { c.get(fmt.Sprintf("/item/%d", 1+r.IntN(1000000)), "") }

	fmt.Printf("pages on 5,000 pairs, %s check-ins, %s measure answers; %d sequential requests each, then %d clients for %s, %d rounds alternated with the baseline\n\n",
		count(ctx, d, `SELECT count(*) FROM checkins`), count(ctx, d, `SELECT count(*) FROM measure_responses`), *n, *conc, *dur, *rounds)
	// Sequential: server time and statements per request.
	for _, p := range pages {
		c := p.clients[0]
		r := rand.New(rand.NewPCG(1, 1))
		for range 5 { // warm the connection, the kept pages and prepared statements
			p.do(c, r)
		}
		p.srv.reset()
		for range *n {
			p.do(c, r)
		}
		st := p.srv.stats()
		p.seqP50, p.seqP99 = st.P50, st.P99
		p.statements = float64(st.Statements) / float64(max(st.Requests, 1))
		if p.reset != nil {
			p.reset()
		}
	}
	// Concurrent, alternated with the baseline.
	for round := range *rounds {
		for _, p := range pages {
			runPage := func() result {
				load(p.clients, *warm, p.do)
				done := func() {}
				if *profile != "" && round == 0 {
					done = p.srv.profile(*profile, p.key, *dur)
				}
				r := load(p.clients, *dur, p.do)
				done()
				if p.reset != nil {
					p.reset()
				}
				return r
			}
			runBase := func() result {
				load(bclients, *warm, itemGet)
				return load(bclients, *dur, itemGet)
			}
			var pr, br result
			if round%2 == 0 {
				pr, br = runPage(), runBase()
			} else {
				br, pr = runBase(), runPage()
			}
			p.ratios = append(p.ratios, pr.rps/br.rps)
			p.rps = append(p.rps, pr.rps)
			p.baseRPS = append(p.baseRPS, br.rps)
			log.Printf("round %d %-34s %6.0f req/s, baseline %6.0f req/s: %.2f", round+1, p.name, pr.rps, br.rps, pr.rps/br.rps)
		}
	}

	fmt.Println("| page | server time, sequential (median / p99) | statements per request | requests/s at 32 connections | baseline requests/s | ratio to baseline (median) | target |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- |")
	for _, p := range pages {
		fmt.Printf("| %s | %s / %s | %.1f | %s | %s | **%.2f** | ≥ %.1f |\n", p.name, ms(p.seqP50), ms(p.seqP99), p.statements,
			figures(p.rps), figures(p.baseRPS), median(p.ratios), p.target)
	}
	fmt.Printf("\nRSS of the web process after the run: %s (as deployed), %s (dashboard read every time)\n", rss(kept.pid), rss(cold.pid))
	fmt.Printf("whole run: %s\n", time.Since(started).Round(time.Second))
}

// page is one measured page: what one request does, on which server, by
// which clients.
type page struct {
	key, name string
	target    float64
	srv       *webProcess
	clients   []*client
	do        func(*client, *rand.Rand)
	reset     func() // after each run (new check-ins are removed again)

	seqP50, seqP99 time.Duration
	statements     float64
	rps, baseRPS   []float64
	ratios         []float64
}

// person is one measured client's or counselor's ids.
type person struct {
	Email   string `db:"email"`
	Pair    int64  `db:"pair"`    // their pair
	Current int64  `db:"current"` // its current homework
	Own     int64  `db:"own"`     // their check-in of today on it
	Review  int64  `db:"review"`  // a check-in of the pair with real text (the counselor's review page)
}

// readersOf are the first members of the pairs labelled so, with the ids
// their pages need.
func readersOf(ctx context.Context, d *sqlx.DB, labels []string, today checkin.Date) ([]person, error) {
	var readers []person
	err := d.SelectContext(ctx, &readers, `
		SELECT u.email, p.id AS pair,
		       (SELECT a.id FROM assignments a WHERE a.pair_id = p.id AND a.status = 'active' AND a.cadence = 'daily'
		          AND a.for_user_id IS NULL AND a.starts_on <= $2 AND a.due_on >= $2 ORDER BY a.id LIMIT 1) AS current,
		       0 AS own,
		       (SELECT c.id FROM checkins c WHERE c.pair_id = p.id AND c.user_id = u.id AND c.period_end < $2
		         ORDER BY c.period_end DESC LIMIT 1) AS review
		FROM pairs p JOIN pair_members m ON m.pair_id = p.id AND m.position = 1 JOIN users u ON u.id = m.user_id
		WHERE p.label = ANY($1) ORDER BY p.id`, pq.Array(labels), today)
	return readers, err
}

// setUp signs in the measured people and returns the pages.
func setUp(ctx context.Context, d *sqlx.DB, kept, cold *webProcess, conc int) ([]*page, error) {
	today := checkin.Today(time.Now(), "America/Chicago")
	readers, err := readersOf(ctx, d, readLabels(), today)
	if err != nil {
		return nil, err
	}
	// The same pages for pairs with no measure (counselor 33's): the
	// "-nomeasures" pages.
	plain, err := readersOf(ctx, d, noMeasureLabels(), today)
	if err != nil {
		return nil, err
	}
	var submitters []string
	if err := d.SelectContext(ctx, &submitters, `
		SELECT u.email FROM pairs p JOIN pair_members m ON m.pair_id = p.id AND m.position = 1 JOIN users u ON u.id = m.user_id
		WHERE p.label = ANY($1) ORDER BY p.id`, pq.Array(submitLabels())); err != nil {
		return nil, err
	}
	// The measured clients have agreed to the practice's consent text
	// (else every page sends them to it first), and the counselors sign in
	// with a password alone (the second factor is not what is measured).
	if _, err := d.ExecContext(ctx, `UPDATE practices SET mfa_required = false WHERE mfa_required`); err != nil {
		return nil, err
	}
	cs := consent.NewStore(d)
	var practices []int64
	if err := d.SelectContext(ctx, &practices, `SELECT id FROM practices`); err != nil {
		return nil, err
	}
	for _, pid := range practices {
		v, err := cs.Current(ctx, pid)
		if err != nil {
			return nil, err
		}
		if _, err := d.ExecContext(ctx, `INSERT INTO consent_acceptances (practice_id, version, user_id)
			SELECT practice_id, $2, id FROM users WHERE practice_id = $1 AND role = 'client'
			ON CONFLICT DO NOTHING`, pid, v.Version); err != nil {
			return nil, err
		}
	}
	if len(readers) < conc || len(plain) < conc || len(submitters) < conc {
		return nil, fmt.Errorf("%d clients measured, -c %d is more", min(len(readers), len(plain)), conc)
	}
	readers, plain, submitters = readers[:conc], plain[:conc], submitters[:conc]

	// Each reader's check-in of today on the current homework (made once a
	// day by the form, as the client would), which the edit POSTs change.
	signIn := func(readers []person) ([]*client, error) {
		var clients []*client
		for i := range readers {
			r := &readers[i]
			c := login(kept.base, r.Email)
			c.person = r
			err := d.GetContext(ctx, &r.Own, `SELECT c.id FROM checkins c JOIN users u ON u.id = c.user_id
				WHERE u.email = $1 AND c.assignment_id = $2 AND c.period_start = $3`, r.Email, r.Current, today)
			if errors.Is(err, sql.ErrNoRows) {
				c.post(fmt.Sprintf("/homework/%d/checkins", r.Current), checkinForm(today, "partner", 0))
				err = d.GetContext(ctx, &r.Own, `SELECT c.id FROM checkins c JOIN users u ON u.id = c.user_id
					WHERE u.email = $1 AND c.assignment_id = $2 AND c.period_start = $3`, r.Email, r.Current, today)
			}
			if err != nil {
				return nil, fmt.Errorf("%s's check-in of today: %w", r.Email, err)
			}
			clients = append(clients, c)
		}
		return clients, nil
	}
	clients, err := signIn(readers)
	if err != nil {
		return nil, err
	}
	plainClients, err := signIn(plain)
	if err != nil {
		return nil, err
	}
	// Counselor i+1 has pair readers[i] (seed.sql); counselor 33 has every
	// pair of plain, one session per pair.
	counselorsOn := func(w *webProcess, readers []person, email func(i int) string) []*client {
		var out []*client
		for i := range conc {
			c := login(w.base, email(i))
			c.person = &readers[i]
			out = append(out, c)
		}
		return out
	}
	own := func(i int) string { return fmt.Sprintf("counselor%d@bench.example", i%measuredCounselors+1) }
	thirtyThird := func(int) string { return fmt.Sprintf("counselor%d@bench.example", noMeasuresCounselor) }
	counselors := counselorsOn(kept, readers, own)
	plainCounselors := counselorsOn(kept, plain, thirtyThird)
	coldCounselors := counselorsOn(cold, readers, own)
	coldPlainCounselors := counselorsOn(cold, plain, thirtyThird)
	// The submitters and the periods they can check in on: each of their
	// extra daily homework, today and the two late days.
	var subs []*client
	for _, email := range submitters {
		c := login(kept.base, email)
		var open []struct {
			Assignment int64        `db:"id"`
			Day        checkin.Date `db:"day"`
		}
		if err := d.SelectContext(ctx, &open, `
			SELECT a.id, d::date AS day FROM assignments a JOIN users u ON u.id = a.for_user_id
			CROSS JOIN generate_series($2::date - 2, $2::date, interval '1 day') d
			WHERE u.email = $1 AND a.cadence = 'daily' AND a.starts_on = $2::date - 2 ORDER BY d DESC, a.id`, email, today); err != nil {
			return nil, err
		}
		for _, o := range open {
			c.submits = append(c.submits, submit{o.Assignment, o.Day})
		}
		subs = append(subs, c)
	}
	removeSubmitted := func() {
		_, err := d.ExecContext(ctx, `
			DELETE FROM checkins c USING assignments a, users u
			WHERE c.assignment_id = a.id AND a.for_user_id = u.id AND u.email = ANY($1) AND a.starts_on = $2::date - 2`,
			pq.Array(submitters), today)
		if err != nil {
			log.Fatal(err)
		}
		for _, c := range subs {
			c.next = 0
		}
	}
	removeSubmitted()

	edits := 0
	var mu sync.Mutex
	// Pages that show measures are measured again, side by side, on pairs
	// without any ("-nomeasures"); want is a word the page must carry.
	progress := func(want string) func(c *client, _ *rand.Rand) {
		return func(c *client, _ *rand.Rand) { c.get(fmt.Sprintf("/pairs/%d/progress", c.person.Pair), want) }
	}
	const withMeasures, withoutMeasures = "Mend closeness check: total of each partner", "No measures given to this pair yet"
	return []*page{
		{key: "home", name: "client home `GET /homework`", target: 0.5, srv: kept, clients: clients,
			do: func(c *client, _ *rand.Rand) { c.get("/homework", "Questionnaires to answer") }},
		{key: "home-nomeasures", name: "client home, no measures", target: 0.5, srv: kept, clients: plainClients,
			do: func(c *client, _ *rand.Rand) { c.get("/homework", "My homework") }},
		{key: "homework", name: "homework page `GET /homework/:id`", target: 0.5, srv: kept, clients: clients,
			do: func(c *client, _ *rand.Rand) { c.get(fmt.Sprintf("/homework/%d", c.person.Current), "") }},
		{key: "edit", name: "check-in edit `POST /checkins/:id`", target: 0.3, srv: kept, clients: clients,
			do: func(c *client, _ *rand.Rand) {
				mu.Lock()
				edits++
				e := edits
				mu.Unlock()
				c.post(fmt.Sprintf("/checkins/%d", c.person.Own), checkinForm(today, "partner", e))
			}},
		{key: "submit", name: "new check-in `POST /homework/:id/checkins`", target: 0.3, srv: kept, clients: subs, reset: removeSubmitted,
			do: func(c *client, _ *rand.Rand) {
				if c.next >= len(c.submits) {
					log.Fatalf("%s has no open period left: raise submitHomework", c.cookie[:8])
				}
				s := c.submits[c.next]
				c.next++
				c.post(fmt.Sprintf("/homework/%d/checkins", s.assignment), checkinForm(s.day, "counselor", c.next))
			}},
		{key: "pair", name: "pair page `GET /pairs/:id`", target: 0.3, srv: kept, clients: counselors,
			do: func(c *client, _ *rand.Rand) { c.get(fmt.Sprintf("/pairs/%d", c.person.Pair), "") }},
		{key: "progress", name: "progress tab `GET /pairs/:id/progress`", target: 0.3, srv: kept, clients: counselors,
			do: progress(withMeasures)},
		{key: "progress-nomeasures", name: "progress tab, no measures", target: 0.3, srv: kept, clients: plainCounselors,
			do: progress(withoutMeasures)},
		{key: "progress-cold", name: "progress tab, read every time", target: 0.3, srv: cold, clients: coldCounselors,
			do: progress(withMeasures)},
		{key: "progress-cold-nomeasures", name: "progress tab, read every time, no measures", target: 0.3, srv: cold, clients: coldPlainCounselors,
			do: progress(withoutMeasures)},
		{key: "review", name: "review page `GET /review/checkins/:id`", target: 0.3, srv: kept, clients: counselors,
			do: func(c *client, _ *rand.Rand) {
				c.get(fmt.Sprintf("/review/checkins/%d", c.person.Review), "checkin-card")
			}},
		{key: "dashboard", name: "dashboard, kept `GET /dashboard`", target: 1.0, srv: kept, clients: counselors,
			do: func(c *client, _ *rand.Rand) { c.get("/dashboard", "See measures") }},
		{key: "dashboard-nomeasures", name: "dashboard, kept, no measures", target: 1.0, srv: kept, clients: plainCounselors,
			do: func(c *client, _ *rand.Rand) { c.get("/dashboard", "Active pairs") }},
		{key: "dashboard-uncompressed", name: "dashboard, kept, asked for uncompressed", target: 1.0, srv: kept, clients: counselors,
			do: func(c *client, _ *rand.Rand) { c.getPlain("/dashboard", "See measures") }},
		{key: "dashboard-cold", name: "dashboard, read every time", target: 0.2, srv: cold, clients: coldCounselors,
			do: func(c *client, _ *rand.Rand) { c.get("/dashboard", "See measures") }},
		{key: "dashboard-cold-nomeasures", name: "dashboard, read every time, no measures", target: 0.2, srv: cold, clients: coldPlainCounselors,
			do: func(c *client, _ *rand.Rand) { c.get("/dashboard", "Active pairs") }},
	}, nil
}

type submit struct {
	assignment int64
	day        checkin.Date
}

// checkinForm is a filled-in check-in form; n varies the text.
func checkinForm(day checkin.Date, visibility string, n int) url.Values {
	return url.Values{
		"period": {day.String()}, "status": {"done"}, "trust": {fmt.Sprint(5 + n%3)}, "communication": {"6"}, "hope": {"7"},
		"answer_1":   {fmt.Sprintf("We talked for ten minutes after dinner (%d).", n)},
		"reflection": {"Calmer than last week; we both stayed at the table."}, "visibility": {visibility},
	}
}

// webProcess is a child process serving Mend, with its statistics
// listener.
type webProcess struct {
	base, statsURL string
	pid            int
}

// profile starts fetching a CPU profile of the web process over d into
// dir/<key>.cpu.pprof; the function returned waits for it and then saves
// a heap profile (dir/<key>.heap.pprof).
func (w *webProcess) profile(dir, key string, d time.Duration) func() {
	save := func(path, name string) {
		res, err := http.Get(w.statsURL + path)
		if err != nil {
			log.Printf("profile %s: %v", name, err)
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
		}
		if err != nil {
			log.Printf("profile %s: %v", name, err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		save(fmt.Sprintf("/debug/pprof/profile?seconds=%d", max(1, int(d.Seconds()))), key+".cpu.pprof")
	}()
	return func() {
		wg.Wait()
		save("/debug/pprof/heap", key+".heap.pprof")
	}
}

func (w *webProcess) reset() {
	res, err := http.Get(w.statsURL + "/reset")
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
}

func (w *webProcess) stats() serverStats {
	res, err := http.Get(w.statsURL + "/stats")
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	var s serverStats
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		log.Fatal(err)
	}
	return s
}

// startWeb runs this program as the web process on ports port (pages) and
// port+1 (statistics). The child dies with this process (Pdeathsig).
func startWeb(dsn, key string, port, dashboards int) (*webProcess, func()) {
	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	addr, stats := fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", port+1)
	cmd := exec.Command(self, "-db", dsn, "-serve", addr, "-stats", stats, "-key", key, "-dashboards", fmt.Sprint(dashboards))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	w := &webProcess{base: "http://" + addr, statsURL: "http://" + stats, pid: cmd.Process.Pid}
	if err := waitFor(w.statsURL + "/stats"); err != nil {
		stop()
		log.Fatal(err)
	}
	return w, stop
}

func waitFor(u string) error {
	for i := 0; ; i++ {
		res, err := http.Get(u)
		if err == nil {
			res.Body.Close()
			return nil
		}
		if i > 300 {
			return fmt.Errorf("%s did not start", u)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rss is a process's resident set size, from /proc.
func rss(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			var kb int
			fmt.Sscan(strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:")), &kb)
			return fmt.Sprintf("%.0f MB", float64(kb)/1024)
		}
	}
	return "?"
}

func count(ctx context.Context, d *sqlx.DB, q string) string {
	var n int64
	if err := d.GetContext(ctx, &n, q); err != nil {
		return "?"
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func figures(xs []float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf("%.0f", x))
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// client is one signed-in browser: a session cookie on a keep-alive
// connection. (The cookie is Secure, which Go's cookie jar would not send
// over plain HTTP to 127.0.0.1; browsers do, so it is sent by hand.)
type client struct {
	base    string
	http    *http.Client
	cookie  string
	body    bytes.Buffer
	person  *person
	submits []submit // a submitter's open periods
	next    int      // the next of them
	gets    int      // pages fetched, for checkEvery
	plain   bytes.Buffer
	inflate *gzip.Reader
}

// browserEncodings is the Accept-Encoding Chromium sends with every page
// request. The bench sends it too, so the server does what it does for a
// browser: Mend sends its kept pages gzip-compressed (compressed once per
// change), the others as they are; the baseline sends everything as it is.
const browserEncodings = "gzip, deflate, br, zstd"

// checkEvery is how often (in responses per client) a compressed page is
// decompressed to check what it says. Like wrk, the load generator does
// not decompress the others: it shares the machine's two cores with the
// server, and inflating 150 KB dashboards on every request would charge
// the browser's work to the page (measured: the kept dashboard's ratio
// fell from 0.8 to 0.5). A body sent as it is is checked every time.
const checkEvery = 32

// newHTTP returns a client that hands bodies over as they came (Go's
// transport would otherwise ask for gzip itself and inflate every body).
func newHTTP() *http.Client {
	return &http.Client{
		Timeout:       60 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func login(base, email string) *client {
	c := &client{base: base, http: newHTTP()}
	form := url.Values{"email": {email}, "password": {password}}
	res := c.do(http.MethodPost, "/login", form)
	for _, ck := range res.Cookies() {
		if strings.Contains(ck.Name, "session") {
			c.cookie = ck.Name + "=" + ck.Value
		}
	}
	if res.StatusCode != http.StatusSeeOther || c.cookie == "" {
		log.Fatalf("login %s: status %d", email, res.StatusCode)
	}
	return c
}

// do sends a request (a form when form is not nil) and reads the body into
// the client's own buffer, reused: the browser is not the web process, and
// allocations made here would not be the server's.
func (c *client) do(method, path string, form url.Values) *http.Response {
	return c.send(method, path, form, browserEncodings)
}

// send is do with the Accept-Encoding given ("": none, pages as they are).
func (c *client) send(method, path string, form url.Values, encodings string) *http.Response {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", c.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if c.cookie != "" {
		req.Header.Set("Cookie", c.cookie)
	}
	if encodings != "" {
		req.Header.Set("Accept-Encoding", encodings)
	}
	res, err := c.http.Do(req)
	if err != nil {
		log.Fatalf("%s %s: %v", method, path, err)
	}
	c.body.Reset()
	_, _ = c.body.ReadFrom(res.Body)
	res.Body.Close()
	return res
}

// get fetches a page as a browser asks for it, and fails loudly on
// anything but 200 with want in it: a benchmark of error pages would be
// worthless. A compressed page is checked on the first and every
// checkEvery-th response, and otherwise only for its status.
func (c *client) get(path, want string) { c.fetch(path, want, browserEncodings) }

// getPlain is get asking for the page uncompressed, checked every time.
func (c *client) getPlain(path, want string) { c.fetch(path, want, "") }

func (c *client) fetch(path, want, encodings string) {
	res := c.send(http.MethodGet, path, nil, encodings)
	body := c.body.Bytes()
	check := true
	if res.Header.Get("Content-Encoding") == "gzip" {
		if encodings == "" {
			log.Fatalf("GET %s: compressed for a client that did not ask for it", path)
		}
		check = c.gets%checkEvery == 0
		if check {
			body = c.inflated(body)
		}
	}
	c.gets++
	if res.StatusCode != http.StatusOK || check && !bytes.Contains(body, []byte(want)) {
		_ = os.WriteFile(filepath.Join(os.TempDir(), "mend-bench-failed.html"), body, 0o600)
		log.Fatalf("GET %s: status %d, want %q\n%s", path, res.StatusCode, want, body[:min(len(body), 600)])
	}
}

// inflated is a gzip body decompressed (into the client's own buffer).
func (c *client) inflated(gz []byte) []byte {
	var err error
	if c.inflate == nil {
		c.inflate, err = gzip.NewReader(bytes.NewReader(gz))
	} else {
		err = c.inflate.Reset(bytes.NewReader(gz))
	}
	c.plain.Reset()
	if err == nil {
		_, err = c.plain.ReadFrom(c.inflate)
	}
	if err != nil {
		log.Fatalf("a gzip body that does not inflate: %v", err)
	}
	return c.plain.Bytes()
}

// post submits a form and fails loudly unless it redirects (saved).
func (c *client) post(path string, form url.Values) {
	res := c.do(http.MethodPost, path, form)
	if res.StatusCode != http.StatusSeeOther {
		body := c.body.Bytes()
		log.Fatalf("POST %s: status %d\n%s", path, res.StatusCode, body[:min(len(body), 1500)])
	}
}

type result struct {
	requests int
	rps      float64
}

// load runs each client in its own goroutine, one request after another,
// for d.
func load(clients []*client, d time.Duration, do func(*client, *rand.Rand)) result {
	var total int
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			n := 0
			for time.Now().Before(deadline) {
				do(c, r)
				n++
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	return result{requests: total, rps: float64(total) / time.Since(start).Seconds()}
}

// startBaseline builds and starts the baseline server on addr against the
// benchmark database (filling its table once), and returns its URL and a
// function that stops it. The child also dies with this process.
func startBaseline(dir, dsn, addr string) (string, func(), error) {
	bin := filepath.Join(os.TempDir(), "mend-bench-baseline")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return "", nil, fmt.Errorf("build: %w", err)
	}
	env := append(os.Environ(), "DATABASE_URL="+dsn)
	d, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return "", nil, err
	}
	var have bool
	err = d.Get(&have, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'baseline_items')`)
	d.Close()
	if err != nil {
		return "", nil, err
	}
	if !have {
		setup := exec.Command(bin, "-setup")
		setup.Env, setup.Stderr = env, os.Stderr
		if err := setup.Run(); err != nil {
			return "", nil, fmt.Errorf("setup: %w", err)
		}
	}
	if ln, err := net.Listen("tcp", addr); err != nil {
		return "", nil, fmt.Errorf("baseline port: %w", err)
	} else {
		ln.Close()
	}
	cmd := exec.Command(bin, "-addr", addr)
	cmd.Env, cmd.Stderr = env, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	if err := waitFor("http://" + addr + "/item/1"); err != nil {
		stop()
		return "", nil, err
	}
	return "http://" + addr, stop, nil
}
