// Package mendtest holds test helpers about Mend's own types.
package mendtest

import (
	"testing"

	"github.com/mend-practice/mend/internal/mend"
)

// WantCode fails the test unless err carries the Mend error code code ("" for
// no error).
func WantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := mend.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}
