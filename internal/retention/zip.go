package retention

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"

	"github.com/mend-practice/mend/internal/checkin"
)

// Span is the stretch of days the archive's records cover, in the
// practice's timezone: from the earliest of the pair's creation, its first
// homework and its first check-in (the demo and imported pairs have records
// older than the pair row) to the day it was closed. The archive's PDF
// report covers exactly this span.
func (a Archive) Span(tz string) (from, to checkin.Date) {
	loc := checkin.LoadZone(tz)
	from = checkin.DateIn(a.Pair.CreatedAt, loc)
	to = checkin.DateIn(a.Pair.ClosedAt, loc)
	earlier := func(s string) {
		if d, err := checkin.ParseDate(s); err == nil && d.Before(from) {
			from = d
		}
	}
	for _, w := range a.Homework {
		earlier(w.StartsOn)
	}
	for _, c := range a.Checkins {
		earlier(c.PeriodStart)
	}
	if to.Before(from) {
		to = from
	}
	return from, to
}

// Names of the files inside an archive zip.
const (
	ArchiveJSONName   = "archive.json"
	ArchiveReportName = "report.pdf"
)

// WriteZip writes the archive as a zip: archive.json (every record,
// decrypted, machine-readable) and report.pdf (the progress report over
// the archive's span, for people).
func WriteZip(w io.Writer, a Archive, reportPDF []byte) error {
	z := zip.NewWriter(w)
	add := func(name string, write func(io.Writer) error) error {
		f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: a.ExportedAt})
		if err != nil {
			return fmt.Errorf("retention: zip %s: %w", name, err)
		}
		return write(f)
	}
	if err := add(ArchiveJSONName, func(f io.Writer) error {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	}); err != nil {
		return err
	}
	if err := add(ArchiveReportName, func(f io.Writer) error {
		_, err := f.Write(reportPDF)
		return err
	}); err != nil {
		return err
	}
	return z.Close()
}
