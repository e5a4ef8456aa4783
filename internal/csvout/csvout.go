// Package csvout is the one CSV writer every Mend export uses. Exports are
// opened in spreadsheets, and a spreadsheet runs a cell that starts with
// "=", "+", "-" or "@" (or a tab or carriage return in front of one) as a
// formula: a client named =HYPERLINK(…) would otherwise become a live link
// in the counselor's or admin's spreadsheet. Every cell is defused by
// default, so an export cannot forget to.
package csvout

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// Writer writes CSV records with every cell made safe for spreadsheets.
type Writer struct {
	w   *csv.Writer
	rec []string
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record, each cell passed through Cell.
func (w *Writer) Write(record []string) error {
	w.rec = w.rec[:0]
	for _, s := range record {
		w.rec = append(w.rec, Cell(s))
	}
	return w.w.Write(w.rec)
}

// Flush writes any buffered data and returns the first error met while
// writing, if any.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}

// formulaStarts are the first characters a spreadsheet treats as the start
// of a formula (OWASP's CSV injection list).
const formulaStarts = "=+-@\t\r"

// Cell defuses text that a spreadsheet would run as a formula by putting a
// single quote in front of it; a plain number (a rating of -1, say) stays a
// number.
func Cell(s string) string {
	if s == "" || !strings.ContainsRune(formulaStarts, rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}
