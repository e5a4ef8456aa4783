package web

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/review"
)

// TestKeptBodiesStayWithinTheirBytes: bodies are dropped oldest first once
// their total passes the bound, and a body replaced is counted once.
func TestKeptBodiesStayWithinTheirBytes(t *testing.T) {
	k, err := newKeptBodies(100, 1000)
	if err != nil {
		t.Fatal(err)
	}
	sc := mend.Scope{UserID: 1, Timezone: "UTC"}
	stamp := review.Stamp{Version: 7}
	body := make([]byte, 200)
	for i := range 10 {
		k.put(keptKey{user: 1, page: tplProgress, id: int64(i)}, keptEntry{stamp: stamp, timezone: "UTC", body: body})
		k.put(keptKey{user: 1, page: tplProgress, id: int64(i)}, keptEntry{stamp: stamp, timezone: "UTC", body: body})
	}
	if k.bytes != 1000 || k.lru.Len() != 5 {
		t.Fatalf("kept %d bodies of %d bytes in all, want 5 of 1000", k.lru.Len(), k.bytes)
	}
	if _, ok := k.get(sc, keptKey{user: 1, page: tplProgress, id: 4}, stamp); ok {
		t.Error("the oldest body is still kept past the bound")
	}
	if _, ok := k.get(sc, keptKey{user: 1, page: tplProgress, id: 9}, stamp); !ok {
		t.Error("the newest body is not kept")
	}
	if _, ok := k.get(sc, keptKey{user: 1, page: tplProgress, id: 9}, review.Stamp{Version: 8}); ok {
		t.Error("a body is used under a newer stamp")
	}
	if k.bytes != 800 {
		t.Errorf("%d bytes counted after an out-of-date body was dropped, want 800", k.bytes)
	}
}

// TestKeptClientBodiesAreSealed: a client's kept page holds their words,
// so what the set keeps is encrypted; a showing gets the page back whole.
func TestKeptClientBodiesAreSealed(t *testing.T) {
	k, err := newSealedBodies(10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	sc := mend.Scope{UserID: 3, Timezone: "UTC"}
	key, stamp := keptKey{user: 3, page: tplHomework}, review.Stamp{Version: 2}
	words := "<p>I kept this sentence for my counselor alone.</p>"
	k.put(key, keptEntry{stamp: stamp, timezone: "UTC", body: []byte(words)})
	stored, _ := k.lru.Peek(key)
	if strings.Contains(string(stored.body), "sentence") || len(stored.body) <= len(words) {
		t.Fatalf("the kept body is not sealed: %q", stored.body)
	}
	for range 2 {
		e, ok := k.get(sc, key, stamp)
		if !ok {
			t.Fatal("the sealed body is not kept")
		}
		body, done, err := k.html(e)
		if err != nil || string(body) != words {
			t.Fatalf("showing the kept body: %q, %v", body, err)
		}
		done()
		if bytes.Contains(body, []byte("sentence")) {
			t.Fatal("the words stay in the pooled buffer after the page was sent")
		}
	}
	if _, ok := k.get(mend.Scope{UserID: 3, Timezone: "Europe/Paris"}, key, stamp); ok {
		t.Error("a body kept in one timezone is used in another")
	}

	// Once shown, the whole page is kept compressed, and sealed too: a
	// browser that takes gzip gets it as it was compressed, any other
	// showing inflates it.
	nav := strings.Repeat("<li><a href=\"/homework\">My homework</a></li>", 40)
	page := "<html><body>" + words + nav + "</body></html>"
	gz := k.compress([]byte(page))
	if z := k.deflaters.Get(); z != nil {
		t.Fatal("a sealed set's compressor went back to the pool, holding the last window of the page it compressed")
	}
	k.put(key, keptEntry{stamp: stamp, timezone: "UTC", body: gz, whole: true, bodyAt: 12, bodyEnd: 12 + len(words)})
	stored, _ = k.lru.Peek(key)
	if bytes.Contains(stored.body, gz) || len(stored.body) <= len(gz) || stored.size() >= len(page) {
		t.Fatalf("the whole page is not kept compressed and sealed: %d bytes for a page of %d", stored.size(), len(page))
	}
	e, _ := k.get(sc, key, stamp)
	packed, done, err := k.open(e)
	if err != nil || !bytes.Equal(packed, gz) {
		t.Fatalf("the compressed page as sent: %v", err)
	}
	done()
	for range 2 {
		html, done, err := k.html(e)
		if err != nil || string(html) != page || string(html[e.bodyAt:e.bodyEnd]) != words {
			t.Fatalf("the whole page inflated: %q, %v", html, err)
		}
		done()
		if bytes.Contains(html, []byte("sentence")) {
			t.Fatal("the words stay in the pooled buffer after the whole page was sent")
		}
	}
}

// TestAcceptsGzipReadsTheWeights: a compressed kept page goes only to a
// request that takes gzip.
func TestAcceptsGzipReadsTheWeights(t *testing.T) {
	for v, want := range map[string]bool{
		"": false, "gzip": true, "gzip, deflate, br, zstd": true, "br;q=1.0, gzip;q=0.8": true,
		"GZIP": true, "x-gzip": true, "*": true, "gzip;q=0": false, "gzip;q=0, *": false, "*;q=0": false,
		"deflate": false, "identity": false, "br, *;q=0.1": true, "gzip ; q=0.000": false,
	} {
		h := http.Header{}
		if v != "" {
			h.Set("Accept-Encoding", v)
		}
		if got := acceptsGzip(h); got != want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", v, got, want)
		}
	}
}
