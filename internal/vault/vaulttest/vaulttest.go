// Package vaulttest gives tests a vault under a fixed, public master key
// (the same one test servers use), so that a database seeded in one place
// can be read by a server started in another.
package vaulttest

import (
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/vault"
)

// MasterKey is the master key of test vaults and test servers. It is public:
// tests only.
const MasterKey = "bWVuZC10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXMhISE="

// Key is MasterKey decoded, for what else derives keys from it (the
// unsubscribe links).
func Key(t testing.TB) []byte {
	t.Helper()
	k, err := vault.ParseMasterKey(MasterKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Open returns a vault over d under MasterKey, or the error.
func Open(d *sqlx.DB) (*vault.Vault, error) {
	k, err := vault.ParseMasterKey(MasterKey)
	if err != nil {
		return nil, err
	}
	return vault.New(d, k)
}

// New is Open for a test: it fails the test on error.
func New(t testing.TB, d *sqlx.DB) *vault.Vault {
	t.Helper()
	v, err := Open(d)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
