package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/config"
)

// Issue 17, item 15: the master key published in compose.yaml is refused
// by web, worker and serve unless they are started for the demo, and the
// refusal says why.
func TestServersRefuseThePublishedMasterKey(t *testing.T) {
	t.Parallel()
	compose, err := os.ReadFile("../../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(compose), config.ComposeDemoMasterKey) {
		t.Fatal("compose.yaml no longer carries config.ComposeDemoMasterKey: keep the two the same")
	}
	environ := map[string]string{
		"MEND_MASTER_KEY": config.ComposeDemoMasterKey, "LISTEN_ADDR": "127.0.0.1:0",
		// Nothing listens there: a server that got past the key check
		// stops at the database instead.
		"DATABASE_URL": "postgres://postgres@127.0.0.1:1/mend?sslmode=disable&connect_timeout=2",
	}
	for _, cmd := range []string{"web", "worker", "serve"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{cmd}, environ, &out)
		if !errors.Is(err, config.ErrPublishedMasterKey) {
			t.Errorf("%s with the published key: %v, want it refused", cmd, err)
			continue
		}
		if !strings.Contains(err.Error(), "published in compose.yaml") || !strings.Contains(err.Error(), "mend keys generate") {
			t.Errorf("%s: the refusal does not say why and what to do: %v", cmd, err)
		}
	}
	for _, cmd := range []string{"web", "worker"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{cmd, "--demo"}, environ, &out)
		if errors.Is(err, config.ErrPublishedMasterKey) {
			t.Errorf("%s --demo refused the published key: %v", cmd, err)
		}
		if !strings.Contains(out.String(), "Never put real clients' records in it.") {
			t.Errorf("%s --demo did not warn about the published key:\n%s", cmd, out.String())
		}
	}
	// An old key that is the published one is fine: that is how an
	// instance rotates away from it.
	environ["MEND_OLD_MASTER_KEYS"] = environ["MEND_MASTER_KEY"]
	environ["MEND_MASTER_KEY"] = "bXktb3duLW1lbmQtbWFzdGVyLWtleS0zMi1ieXRlcyE="
	if err := run(context.Background(), []string{"web"}, environ, &bytes.Buffer{}); errors.Is(err, config.ErrPublishedMasterKey) {
		t.Errorf("web with the published key as an old key: %v", err)
	}
}
