package auth_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/mend-practice/mend/internal/auth"
)

// TestSessionCodecKeepsEachValueAndReadsGob: every kind of value Mend puts
// in a session comes back as the same type, a session stored by gob before
// the codec is still read, and a value of another kind is refused when
// stored rather than lost.
func TestSessionCodecKeepsEachValueAndReadsGob(t *testing.T) {
	deadline := time.Date(2026, 12, 5, 13, 4, 5, 6, time.UTC)
	values := map[string]interface{}{"user": int64(42), "consent": 2, "flash": "Saved. Ünïcode \x00 too", "seen": true}
	var c auth.SessionCodec
	b, err := c.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	gotDeadline, got, err := c.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !gotDeadline.Equal(deadline) || !reflect.DeepEqual(got, values) {
		t.Errorf("decoded %v %#v, want %v %#v", gotDeadline, got, deadline, values)
	}

	old, err := scs.GobCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	gotDeadline, got, err = c.Decode(old)
	if err != nil || !gotDeadline.Equal(deadline) || !reflect.DeepEqual(got, values) {
		t.Errorf("a gob session decoded as %v %#v (%v)", gotDeadline, got, err)
	}

	if _, err := c.Encode(deadline, map[string]interface{}{"when": time.Now()}); err == nil {
		t.Error("a time.Time session value was stored, though the codec cannot give it back as one")
	}
	if _, _, err := c.Decode([]byte{0, '{', 'x'}); err == nil {
		t.Error("broken session data decoded without an error")
	}
}
