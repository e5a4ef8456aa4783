package web

import (
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/alexedwards/scs/v2"
	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/review"
)

// keptBodies keeps rendered pages that are read far more often than what
// they show changes: a counselor's dashboard, and the progress tab, pair
// page and review pages of their pairs; a client's home and homework
// pages. Each is kept with the stamp it was read at (the viewer's data
// version, for a client a hash of all their pairs' counselors' versions,
// and the 15-minute slot) and used only by the viewer it was rendered for, for the same page
// and query, while their stamp and timezone are unchanged. So it is never
// staler than a fresh read: every change such a page shows moves the
// version in the writing transaction (migrations 00060, 00120, 00140,
// 00172, 00173), and the session check reads that version with the session
// (no statement of its own). Each process has its own; the stamp makes
// them agree.
//
// Pages are kept in four sets (Server.kept, keptProgress, keptClient,
// keptStaff), so that a counselor going through their pairs' tabs never
// pushes another counselor's dashboard out, nor clients' pages
// counselors'. Each is bounded twice: at most size entries and at most
// maxBytes of pages; the least recently used go first, and an entry found
// out of date is dropped at once. Dashboards and progress tabs hold
// clients' names, ratings and scores, never their words.
//
// The pages that show clients' words (a client's home and homework pages,
// a counselor's review and pair pages) are in the two sealed sets: each
// page is kept encrypted (AES-256-GCM) under a key made when the process
// starts and never written anywhere, and opened into a pooled buffer for
// each showing, which is wiped when the page has been sent (and a page is
// compressed and inflated by a compressor and a reader of its own, not
// pooled ones that would keep the last window of it). Words are then in
// memory as plain text only while a page is being made or sent, as for
// any page read afresh.
type keptBodies struct {
	mu        sync.Mutex // held around every change to lru, so bytes (kept by its eviction callback) stays true
	lru       *lru.Cache[keptKey, keptEntry]
	bytes     int
	maxBytes  int
	seal      cipher.AEAD // nil: bodies are kept as they are
	buffers   sync.Pool   // of *[]byte, for opening sealed pages and inflating whole ones
	deflaters sync.Pool   // of *gzip.Writer, for compressing whole pages of sets without words
	inflaters sync.Pool   // of *gzip.Reader, for sets without words
}

// keptKey is what a kept body was rendered for.
type keptKey struct {
	user  int64
	page  pageName
	id    int64  // the pair, for a pair's page
	query string // the query string that chose what the body shows
}

type keptEntry struct {
	stamp    review.Stamp
	timezone string // the counselor's: dates are in it
	counts   review.Counts
	title    string  // the page's title, which the layout writes
	clients  []int64 // whose data it shows: each showing is audited as a read of theirs
	unread   int     // a client's page: the partner's shared check-ins not yet opened, for the navigation
	// body is what is kept of the page (sealed in a sealed set), never
	// changed. At first it is the body alone, written into the page by
	// writeAround. Once the page has been shown without a flash message
	// (whole), it is the whole page as it was sent, gzip-compressed: what
	// the page around the body shows is the same for every showing under
	// the same key and stamp (the user's name and the navigation's counts
	// move the stamp or are kept here), so the page is sent as it is to a
	// browser that takes gzip (all do), and inflated for one that does not
	// or to show a flash message, with the body at [bodyAt:bodyEnd]. A
	// dashboard of 150 pairs is then 15 KB kept rather than 150: the
	// process keeps ten times the pages in the same memory, and its
	// garbage collector has a tenth of the bytes to walk.
	body            []byte
	whole           bool
	bodyAt, bodyEnd int
	sealed          bool // body is sealed (an entry as a sealed set keeps it)
}

// size is how many bytes the entry keeps.
func (e keptEntry) size() int { return len(e.body) }

// keptPage is one page as it is kept: in which set, under which key, how a
// showing of a kept entry is recorded (nil: it is not audited) and how
// the page is read afresh (its body, and what goes with it: the title,
// the clients whose records it shows, the navigation's figures).
type keptPage struct {
	page  pageName
	set   *keptBodies
	key   keptKey
	shown func(e keptEntry) error
	read  func() (keptEntry, error)
}

// serveKept is how every kept page is served: the entry kept under the
// caller's stamp (review.Store.Stamp) if there is one, its showing
// recorded, else the page read afresh and kept; then sent with showKept.
func (s *Server) serveKept(c *gin.Context, p keptPage) error {
	sc := scopeOf(c)
	stamp, err := s.reviews.Stamp(sc)
	if err != nil {
		return err
	}
	e, ok := p.set.get(sc, p.key, stamp)
	switch {
	case ok && p.shown != nil:
		if err := p.shown(e); err != nil {
			return err
		}
	case !ok:
		if e, err = p.read(); err != nil {
			return err
		}
		e.stamp, e.timezone = stamp, sc.Timezone
		p.set.put(p.key, e)
	}
	if sc.Role == mend.RoleClient {
		c.Set(navSharedKey, e.unread)
	} else {
		c.Set(navCountsKey, e.counts)
	}
	return s.showKept(c, p.page, p.set, p.key, e)
}

// showKept sends the page of a kept entry: the whole page kept with it
// when no flash message waits for this request (as it is kept, compressed,
// to a browser that takes gzip), else the page rendered around its body,
// which is then kept whole if it showed no message.
func (s *Server) showKept(c *gin.Context, page pageName, set *keptBodies, key keptKey, e keptEntry) error {
	c.Header("Vary", "Accept-Encoding")
	flash := s.sessions.Exists(c.Request.Context(), flashKey)
	if e.whole && !flash && acceptsGzip(c.Request.Header) {
		gz, done, err := set.open(e)
		if err != nil {
			return err
		}
		defer done()
		c.Header("Content-Encoding", "gzip")
		s.writeHTML(c, gz)
		return nil
	}
	html, done, err := set.html(e)
	if err != nil {
		return err
	}
	defer done()
	if e.whole && !flash {
		s.writeHTML(c, html)
		return nil
	}
	data := H{}
	if e.title != "" {
		data["Title"] = e.title
	}
	body := html
	if e.whole {
		body = html[e.bodyAt:e.bodyEnd]
	}
	s.writeAround(c, http.StatusOK, page, data, body, func(before, after []byte) {
		if e.whole || !set.keeps() {
			return // (a set that keeps nothing: the page read every time)
		}
		w := make([]byte, 0, len(before)+len(body)+len(after))
		w = append(append(append(w, before...), body...), after...)
		gz := set.compress(w)
		if gz == nil {
			return // not kept whole: rendered around its body each time
		}
		whole := e
		whole.body, whole.whole, whole.bodyAt, whole.bodyEnd, whole.sealed = gz, true, len(before), len(before)+len(body), false
		set.put(key, whole)
	})
	return nil
}

// writeHTML sends a whole page (an error: the client went away). Its
// length goes with it when the session is unchanged: scs saves a changed
// session at the first write and, if that fails, writes its error page
// instead, which a length set here would then misstate (see writeAround).
func (s *Server) writeHTML(c *gin.Context, page []byte) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	if s.sessions.Status(c.Request.Context()) == scs.Unmodified {
		c.Header("Content-Length", strconv.Itoa(len(page)))
	}
	c.Status(http.StatusOK)
	_, _ = c.Writer.Write(page)
}

// The bytes of pages each set keeps at most. The web process runs under a
// 40 MiB soft memory limit (web.MemoryLimit) to stay under 80 MB resident,
// and about 8 MB of its heap is not pages (templates, the policy, drivers'
// buffers): with 22 MB or more of pages kept uncompressed (and the limit at
// 48 MiB), the heap sat at the limit and garbage collection took a third of
// the CPU.
// Pages shown once are kept compressed (keptEntry.body), about a tenth of
// their size: a dashboard of 150 pairs about 15 KB (3 MB: 200 counselors
// at once), a progress tab 10 to 30 KB (4 MB: 130 or more tabs being
// looked at), a client's home or homework page, a review or pair page 2
// to 8 KB (1.5 MB each: 200 to 700). A body not yet shown whole is kept
// as it is, until its first showing without a flash message.
const (
	keptDashboardBytes = 3 << 20
	keptProgressBytes  = 4 << 20
	keptClientBytes    = 3 << 19
	keptStaffBytes     = 3 << 19
)

// newKeptBodies keeps at most size bodies and maxBytes of them (size 0:
// keep none).
func newKeptBodies(size, maxBytes int) (*keptBodies, error) {
	k := &keptBodies{maxBytes: maxBytes}
	if size <= 0 {
		return k, nil
	}
	c, err := lru.NewWithEvict(size, func(_ keptKey, e keptEntry) { k.bytes -= e.size() })
	if err != nil {
		return nil, err
	}
	k.lru = c
	return k, nil
}

// newSealedBodies is newKeptBodies whose bodies are kept encrypted under a
// key of its own.
func newSealedBodies(size, maxBytes int) (*keptBodies, error) {
	k, err := newKeptBodies(size, maxBytes)
	if err != nil || k.lru == nil {
		return k, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if k.seal, err = cipher.NewGCM(b); err != nil {
		return nil, err
	}
	return k, nil
}

// get returns the body kept for key if it was read at stamp, in sc's
// timezone.
func (k *keptBodies) get(sc mend.Scope, key keptKey, stamp review.Stamp) (keptEntry, bool) {
	if k.lru == nil {
		return keptEntry{}, false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.lru.Get(key)
	if !ok {
		return e, false
	}
	if e.stamp != stamp || e.timezone != sc.Timezone {
		k.lru.Remove(key)
		return keptEntry{}, false
	}
	return e, true
}

// sealed returns b encrypted under the set's key, with its nonce first.
func (k *keptBodies) sealed(b []byte) []byte {
	if b == nil {
		return nil
	}
	nonce := make([]byte, k.seal.NonceSize(), k.seal.NonceSize()+len(b)+k.seal.Overhead())
	rand.Read(nonce) // never fails: it would crash the process first
	return k.seal.Seal(nonce, nonce, b, nil)
}

// open returns e's body as it was before it was sealed (a whole page:
// still compressed), and a func to call once it is written: a sealed
// entry is opened into a pooled buffer, so that showing it leaves no
// page-sized garbage behind.
func (k *keptBodies) open(e keptEntry) ([]byte, func(), error) {
	if !e.sealed || e.body == nil {
		return e.body, func() {}, nil
	}
	buf := k.buffer()
	n := k.seal.NonceSize()
	out, err := k.seal.Open((*buf)[:0], e.body[:n], e.body[n:], nil)
	if err != nil { // cannot happen: the key never changes
		k.buffers.Put(buf)
		return nil, nil, fmt.Errorf("kept: open: %w", err)
	}
	return out, k.release(buf, out), nil
}

// html returns e's HTML (the body alone, or the whole page inflated, into
// a pooled buffer), and a func to call once it is written.
func (k *keptBodies) html(e keptEntry) ([]byte, func(), error) {
	b, done, err := k.open(e)
	if err != nil || !e.whole {
		return b, done, err
	}
	defer done()
	z, _ := k.inflaters.Get().(*gzip.Reader)
	if z == nil {
		z = new(gzip.Reader)
	}
	if k.seal == nil { // a reader keeps what it inflated last: pooled only where there are no words
		defer k.inflaters.Put(z)
	}
	buf := k.buffer()
	page := bytes.NewBuffer((*buf)[:0])
	if err = z.Reset(bytes.NewReader(b)); err == nil {
		_, err = page.ReadFrom(z)
	}
	if err != nil { // cannot happen: it was compressed here
		k.buffers.Put(buf)
		return nil, nil, fmt.Errorf("kept: inflate: %w", err)
	}
	return page.Bytes(), k.release(buf, page.Bytes()), nil
}

func (k *keptBodies) buffer() *[]byte {
	buf, _ := k.buffers.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	return buf
}

// release returns a func that gives buf, now holding out, back to the
// pool; in a sealed set, wiped first.
func (k *keptBodies) release(buf *[]byte, out []byte) func() {
	return func() {
		if k.seal != nil {
			clear(out)
		}
		*buf = out[:0]
		k.buffers.Put(buf)
	}
}

// keeps says whether the set keeps anything (a server that reads its
// pages every time has sets that keep none).
func (k *keptBodies) keeps() bool { return k.lru != nil }

// put keeps e for key, unless it would take a quarter of the bytes
// allowed.
func (k *keptBodies) put(key keptKey, e keptEntry) {
	if !k.keeps() || e.size() > k.maxBytes/4 {
		return
	}
	if k.seal != nil {
		e.body, e.sealed = k.sealed(e.body), true
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if old, ok := k.lru.Peek(key); ok {
		k.bytes -= old.size() // Add replaces it without the eviction callback
	}
	k.lru.Add(key, e)
	k.bytes += e.size()
	for k.bytes > k.maxBytes {
		if _, _, ok := k.lru.RemoveOldest(); !ok {
			break
		}
	}
}

// compress returns page gzip-compressed, in a slice of its own length (nil
// if compressing failed: the page is then not kept whole). Compressors
// hold about 1 MB each and are reused where pages have no words: a
// compressor keeps the last window of what it compressed (Reset does not
// clear it), so a sealed set's page is compressed by a compressor of its
// own, as html inflates it by a reader of its own. A page is compressed
// once per change, not per showing.
func (k *keptBodies) compress(page []byte) []byte {
	var b bytes.Buffer
	z, _ := k.deflaters.Get().(*gzip.Writer)
	if z == nil {
		z = gzip.NewWriter(&b)
	} else {
		z.Reset(&b)
	}
	if k.seal == nil {
		defer k.deflaters.Put(z)
	}
	if _, err := z.Write(page); err != nil {
		return nil
	}
	if err := z.Close(); err != nil {
		return nil
	}
	return bytes.Clone(b.Bytes()) // a Buffer's array is up to twice its length
}

// acceptsGzip says whether a request's Accept-Encoding takes gzip
// (RFC 9110 12.5.3): "gzip" (or "x-gzip"), else "*", with a weight above
// zero.
func acceptsGzip(h http.Header) bool {
	gzipQ, anyQ := -1.0, -1.0
	for _, v := range h.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				if k, val, ok := strings.Cut(p, "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "gzip", "x-gzip":
				gzipQ = max(gzipQ, q)
			case "*":
				anyQ = max(anyQ, q)
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return anyQ > 0
}
