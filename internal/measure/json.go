package measure

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/mend-practice/mend/internal/mend"
)

// FileFormat is the version of the exported file's format.
const FileFormat = 1

// MaxFile is the largest definition file accepted for import.
const MaxFile = 256 << 10

// file is what Export writes and Import reads.
type file struct {
	Format     int        `json:"mend_measure"`
	Definition Definition `json:"definition"`
}

// Export writes a definition as the JSON file practices share.
func Export(d Definition) ([]byte, error) {
	return json.MarshalIndent(file{Format: FileFormat, Definition: d}, "", "  ")
}

// Import reads an exported file and checks its structure (item texts may
// be empty; activation asks for them).
func Import(b []byte) (Definition, error) {
	if len(b) > MaxFile {
		return Definition{}, importError(fmt.Sprintf("The file is larger than %d KB.", MaxFile>>10))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return Definition{}, importError("This is not a measure file exported from Mend.")
	}
	if f.Format != FileFormat {
		return Definition{}, importError("This file comes from a version of Mend that cannot be read here.")
	}
	d := f.Definition
	if err := d.Validate(); err != nil {
		msg := "The file's measure is not complete:"
		for _, m := range mend.Fields(err) {
			msg += " " + m
		}
		return Definition{}, importError(msg)
	}
	return d, nil
}

func importError(msg string) error {
	var fe mend.FieldErrors
	fe.Add("file", msg)
	return fe.Err()
}
