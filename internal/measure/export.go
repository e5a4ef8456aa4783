package measure

import (
	"context"
	"fmt"
	"io"

	"github.com/mend-practice/mend/internal/csvout"
	"github.com/mend-practice/mend/internal/mend"
)

// ExportCSV writes every answer of a pair's measures as CSV (staff; the
// read is audited): one row per answer with its scores and the item
// values, oldest first.
func (s *Store) ExportCSV(ctx context.Context, sc mend.Scope, pairID int64, w io.Writer) error {
	v, err := s.ForPair(ctx, sc, pairID)
	if err != nil {
		return err
	}
	cw := csvout.NewWriter(w)
	if err := cw.Write([]string{"measure", "version", "date", "client", "total", "band", "valid", "critical", "subscales", "items"}); err != nil {
		return err
	}
	for _, sr := range v.Series {
		for _, r := range sr.Responses {
			subs, items := "", ""
			for i, ss := range r.Subscales {
				if i > 0 {
					subs += "; "
				}
				val := "—"
				if ss.Valid {
					val = fmtScore(ss.Score)
				}
				subs += ss.Name + " " + val
			}
			for n := 1; n <= len(sr.Definition.Items); n++ {
				if n > 1 {
					items += " "
				}
				if a, ok := r.Answers[n]; ok {
					items += fmt.Sprintf("%d=%d", n, a)
				} else {
					items += fmt.Sprintf("%d=", n)
				}
			}
			band := ""
			if r.Band.Valid {
				band = r.Band.String
			}
			if err := cw.Write([]string{sr.Name, fmt.Sprint(r.Version), r.AnsweredOn.String(), r.UserName, r.TotalText(),
				band, yes(r.Valid), yes(r.Critical), subs, items}); err != nil {
				return err
			}
		}
	}
	return cw.Flush()
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
