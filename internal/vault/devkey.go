package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// DevKeyFile is where `mend serve --demo` keeps its development master key
// when MEND_MASTER_KEY is not set, relative to the working directory.
const DevKeyFile = "mend-dev-master.key"

// LoadOrCreateKeyFile reads a base64 master key from path, creating the
// file with a new random key (mode 0600) when it does not exist. It is for
// demos and development only: a key stored beside the data protects nothing.
func LoadOrCreateKeyFile(path string) (key string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key = strings.TrimSpace(string(b))
		if _, err := ParseMasterKey(key); err != nil {
			return "", false, fmt.Errorf("vault: %s: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("vault: %w", err)
	}
	key, err = GenerateMasterKey()
	if err != nil {
		return "", false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("vault: create %s: %w", path, err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return "", false, fmt.Errorf("vault: write %s: %w", path, err)
	}
	return key, true, f.Close()
}
