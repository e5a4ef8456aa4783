// Package mailtest gives mail tests a real SMTP listener in the test process
// (emersion/go-smtp) and a Redis database of their own.
package mailtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/redis/go-redis/v9"

	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
)

// Received is one message the listener accepted.
type Received struct {
	From string
	To   []string
	Raw  []byte
}

// Header parses the message's header.
func (r Received) Header() netmail.Header {
	m, err := netmail.ReadMessage(bytes.NewReader(r.Raw))
	if err != nil {
		return netmail.Header{}
	}
	return m.Header
}

// Parts returns the decoded bodies by content type (text/plain,
// text/html) of a multipart/alternative message.
func (r Received) Parts() map[string]string {
	out := map[string]string{}
	m, err := netmail.ReadMessage(bytes.NewReader(r.Raw))
	if err != nil {
		return out
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return out
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(decode(m.Header.Get("Content-Transfer-Encoding"), m.Body))
		out[mt] = string(b)
		return out
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err != nil {
			return out
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, _ := io.ReadAll(decode(p.Header.Get("Content-Transfer-Encoding"), p))
		out[pt] = string(b)
	}
}

// Listener is an SMTP server on a loopback port. By default it accepts
// every message; SetReject makes it refuse DATA with a code; Stop and
// Start take it down and up again on the same port.
type Listener struct {
	Addr string

	mu       sync.Mutex
	srv      *smtp.Server
	received []Received
	reject   int
	rejectTo map[string]int
	delay    time.Duration
	// hidePipelining takes PIPELINING out of the EHLO reply, for a client's
	// path to servers that do not offer it.
	hidePipelining bool
	// pipelined counts envelopes whose MAIL, RCPT and DATA arrived in one
	// read.
	pipelined int
}

// Start runs a listener for the test; it stops when the test ends.
func Start(t testing.TB) *Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &Listener{Addr: ln.Addr().String()}
	l.serve(ln)
	t.Cleanup(l.Stop)
	return l
}

func (l *Listener) serve(ln net.Listener) {
	s := smtp.NewServer(backend{l})
	s.Domain = "mailtest.localhost"
	s.ReadTimeout = 30 * time.Second
	s.WriteTimeout = 30 * time.Second
	s.MaxRecipients = 10
	// Dropped connections are what the fault tests cause; keep them quiet.
	s.ErrorLog = log.New(io.Discard, "", 0)
	l.mu.Lock()
	l.srv = s
	l.mu.Unlock()
	go func() { _ = s.Serve(listenerFunc{ln, l.wrap}) }()
}

// listenerFunc passes each accepted connection through wrap.
type listenerFunc struct {
	net.Listener
	wrap func(net.Conn) net.Conn
}

func (lf listenerFunc) Accept() (net.Conn, error) {
	c, err := lf.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return lf.wrap(c), nil
}

func (l *Listener) wrap(c net.Conn) net.Conn { return &serverConn{Conn: c, l: l} }

// serverConn is the server's side of a connection; it edits the EHLO
// reply when the listener hides PIPELINING (go-smtp always offers it).
type serverConn struct {
	net.Conn
	l *Listener
}

func (c *serverConn) Write(p []byte) (int, error) {
	c.l.mu.Lock()
	hide := c.l.hidePipelining
	c.l.mu.Unlock()
	if hide && bytes.Contains(p, []byte("PIPELINING")) {
		if _, err := c.Conn.Write(bytes.ReplaceAll(p, []byte("PIPELINING"), []byte("X-NO-PIPELINING"))); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// Read notes an envelope that came in one piece (as a pipelining client
// sends it: one write, so one read on loopback).
func (c *serverConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if b := p[:n]; bytes.HasPrefix(b, []byte("MAIL FROM:")) && bytes.HasSuffix(b, []byte("DATA\r\n")) {
		c.l.mu.Lock()
		c.l.pipelined++
		c.l.mu.Unlock()
	}
	return n, err
}

// PipelinedEnvelopes is how many messages' MAIL, RCPT and DATA commands
// arrived together.
func (l *Listener) PipelinedEnvelopes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pipelined
}

// HidePipelining makes the listener a server without PIPELINING (RFC
// 2920) from the next connection on.
func (l *Listener) HidePipelining() {
	l.mu.Lock()
	l.hidePipelining = true
	l.mu.Unlock()
}

// RejectRecipient makes RCPT TO:<addr> answer code (e.g. 550).
func (l *Listener) RejectRecipient(addr string, code int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rejectTo == nil {
		l.rejectTo = map[string]int{}
	}
	l.rejectTo[addr] = code
}

// URL is the SMTP_URL for this listener (no TLS: it is loopback).
func (l *Listener) URL() string { return "smtp://" + l.Addr + "?tls=none" }

// Stop closes the listener and its connections: the SMTP server is down.
func (l *Listener) Stop() {
	l.mu.Lock()
	s := l.srv
	l.srv = nil
	l.mu.Unlock()
	if s != nil {
		_ = s.Close()
	}
}

// Restart listens again on the same address.
func (l *Listener) Restart(t testing.TB) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the old socket may linger for a moment
		if ln, err = net.Listen("tcp", l.Addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	l.serve(ln)
}

// SetReject makes DATA answer code (e.g. 550 or 451); 0 accepts again.
func (l *Listener) SetReject(code int) {
	l.mu.Lock()
	l.reject = code
	l.mu.Unlock()
}

// SetDelay makes the server wait this long before answering each message's
// final "." (a slow MTA), so that a batch takes long enough to be
// interrupted.
func (l *Listener) SetDelay(d time.Duration) {
	l.mu.Lock()
	l.delay = d
	l.mu.Unlock()
}

// Messages returns what was accepted so far.
func (l *Listener) Messages() []Received {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Received(nil), l.received...)
}

// Count is how many messages were accepted.
func (l *Listener) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.received)
}

// CountByMessageID counts accepted messages per Message-ID header.
func (l *Listener) CountByMessageID() map[string]int {
	out := map[string]int{}
	for _, m := range l.Messages() {
		out[m.Header().Get("Message-Id")]++
	}
	return out
}

// WaitFor waits until at least n messages arrived or the limit passed
// (a bound on a hung test, not a timing assertion) and returns them.
func (l *Listener) WaitFor(t testing.TB, n int, limit time.Duration) []Received {
	t.Helper()
	end := time.Now().Add(limit)
	for l.Count() < n && time.Now().Before(end) {
		time.Sleep(20 * time.Millisecond)
	}
	msgs := l.Messages()
	if len(msgs) < n {
		t.Fatalf("SMTP listener: %d messages after %s, want %d", len(msgs), limit, n)
	}
	return msgs
}

type backend struct{ l *Listener }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{l: b.l}, nil }

type session struct {
	l    *Listener
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.l.mu.Lock()
	code := s.l.rejectTo[to]
	s.l.mu.Unlock()
	if code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: "no such recipient at the test listener"}
	}
	s.to = append(s.to, to)
	return nil
}

// Data reads the whole message; a connection that drops before the final
// "." makes the read fail and nothing is recorded, as a real MTA would.
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.l.mu.Lock()
	delay := s.l.delay
	s.l.mu.Unlock()
	time.Sleep(delay)
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	if s.l.reject != 0 {
		class := s.l.reject / 100
		return &smtp.SMTPError{Code: s.l.reject, EnhancedCode: smtp.EnhancedCode{class, 0, 0}, Message: "rejected by test listener"}
	}
	s.l.received = append(s.l.received, Received{From: s.from, To: append([]string(nil), s.to...), Raw: raw})
	return nil
}

// RedisDB gives the test a Redis database number of its own (1–15 on
// 127.0.0.1:6379, or TEST_REDIS_ADDR), emptied before and after. A lock key
// in database 0 (mend:testdb:N) keeps parallel test processes apart.
func RedisDB(t testing.TB) (url string, client *redis.Client) {
	t.Helper()
	addr := "127.0.0.1:6379"
	ctx := context.Background()
	lock := redis.NewClient(&redis.Options{Addr: addr, DB: 0})
	t.Cleanup(func() { lock.Close() })
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	err := lock.Ping(pctx).Err()
	cancel()
	dbtest.RequireService(t, "Redis", err)

	token := randomHex()
	start := int(token[0]) % 15
	deadline := time.Now().Add(3 * time.Minute)
	for {
		for i := range 15 {
			n := 1 + (start+i)%15
			key := fmt.Sprintf("mend:testdb:%d", n)
			ok, err := lock.SetNX(ctx, key, token, 15*time.Minute).Result()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				continue
			}
			c := redis.NewClient(&redis.Options{Addr: addr, DB: n})
			if err := c.FlushDB(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = c.FlushDB(context.Background()).Err()
				c.Close()
				// Release only our own lock.
				if v, _ := lock.Get(context.Background(), key).Result(); v == token {
					lock.Del(context.Background(), key)
				}
			})
			return fmt.Sprintf("redis://%s/%d", addr, n), c
		}
		if time.Now().After(deadline) {
			t.Fatal(errors.New("no free Redis test database (1–15) for 3 minutes"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func decode(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r)
	}
	return r
}

// UnsubscribeLinks signs unsubscribe links under the test master key, as
// test servers and test workers do.
func UnsubscribeLinks(t testing.TB) *mail.UnsubscribeLinks {
	t.Helper()
	l, err := mail.NewUnsubscribeLinks(vaulttest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	return l
}
