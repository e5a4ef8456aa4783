// Package apptest builds the stores for tests the way cmd/mend builds them
// (app.New), under the public test master key.
package apptest

import (
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/app"
	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
)

// BaseURL is the address in the links test stores write into emails.
const BaseURL = "http://mend.test"

// Config is the configuration test stores are built from.
func Config() config.Config {
	return config.Config{MasterKey: vaulttest.MasterKey, BaseURL: BaseURL, SessionIdleTimeout: 30 * time.Minute}
}

// Open builds the stores over d, or returns the error.
func Open(d *sqlx.DB) (*app.Stores, error) { return app.New(Config(), d) }

// New is Open for a test: it fails the test on error.
func New(t testing.TB, d *sqlx.DB) *app.Stores {
	t.Helper()
	st, err := Open(d)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
