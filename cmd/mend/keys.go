package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/vault"
)

const keysUsage = `usage:
  mend keys generate               print a new random master key (base64) for MEND_MASTER_KEY
  mend keys status                 count data keys and show whether a rotation is open
  mend keys rotate [--batch N]     rewrap data keys under the current master key, give every
                                   pair a new data key and re-encrypt every value under it;
                                   stopped runs resume where they were

Rotating the master key: set MEND_MASTER_KEY to a new key and MEND_OLD_MASTER_KEYS to the
old one, run "mend keys rotate", then remove MEND_OLD_MASTER_KEYS. While it is set, the
unsubscribe links in reminders sent before the rotation keep working; keep it a while (say
90 days) unless the old key was compromised.`

// keysCmd manages the encryption keys.
func keysCmd(ctx context.Context, cfg config.Config, out, progress io.Writer, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(out, keysUsage)
		return errors.New("keys: say generate, status or rotate")
	}
	switch args[0] {
	case "generate":
		k, err := vault.GenerateMasterKey()
		if err != nil {
			return err
		}
		fmt.Fprintln(out, k)
		return nil
	case "status", "rotate":
	default:
		fmt.Fprintln(out, keysUsage)
		return fmt.Errorf("keys: unknown %q: say generate, status or rotate", args[0])
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	batch := fs.Int("batch", 500, "values re-encrypted per transaction")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	d, err := openDB(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer d.Close()
	current, old, err := cfg.MasterKeys()
	if err != nil {
		return err
	}
	v, err := vault.New(d, current, old...)
	if err != nil {
		return err
	}
	if args[0] == "status" {
		st, err := v.Status(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "active data keys:               %d\nretired keys awaiting rotation: %d\nkeys under an old master key:   %d\nrotation in progress:           %t\n",
			st.ActiveKeys, st.RetiredKeys, st.OldMasterKeys, st.RotationOpen)
		return nil
	}
	var bar *progressbar.ProgressBar
	res, err := v.Rotate(ctx, vault.RotateOptions{
		BatchSize: *batch,
		Start: func(total int64) {
			if total == 0 {
				return
			}
			bar = progressbar.NewOptions64(total,
				progressbar.OptionSetWriter(progress),
				progressbar.OptionSetDescription("re-encrypting"),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(200*time.Millisecond),
				progressbar.OptionSetRenderBlankState(true),
			)
		},
		Progress: func(n int64) {
			if bar != nil {
				_ = bar.Add64(n)
			}
		},
	})
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(progress)
	}
	if err != nil {
		return fmt.Errorf("keys rotate (run it again to resume): %w", err)
	}
	if res.Resumed {
		fmt.Fprintln(out, "Resumed the rotation that was in progress.")
	}
	fmt.Fprintf(out, "Rewrapped %d data keys under the current master key; %d new data keys; %d of %d values re-encrypted; %d old keys destroyed.\n",
		res.Rewrapped, res.NewKeys, res.Reencrypted, res.Scanned, res.Retired)
	return nil
}

// demoMasterKey gives `serve --demo` a master key when MEND_MASTER_KEY is
// not set: a development key file in the working directory, with a loud
// warning. Without --demo a missing key stops the server (config.ErrNoMasterKey).
func demoMasterKey(cfg *config.Config, log *slog.Logger, out io.Writer) error {
	if cfg.MasterKey != "" {
		return nil
	}
	key, created, err := vault.LoadOrCreateKeyFile(vault.DevKeyFile)
	if err != nil {
		return err
	}
	cfg.MasterKey = key
	verb := "using"
	if created {
		verb = "created"
	}
	fmt.Fprintf(out, "\n!!! WARNING: MEND_MASTER_KEY is not set. --demo %s the DEVELOPMENT key in ./%s.\n"+
		"!!! Anything encrypted with it is only as safe as that file. Never put real clients' records in this instance.\n\n",
		verb, vault.DevKeyFile)
	log.Warn("using the development master key file; not for real data", "file", vault.DevKeyFile)
	return nil
}
