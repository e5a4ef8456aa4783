package csvout_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/mend-practice/mend/internal/csvout"
)

func TestWriterDefusesFormulas(t *testing.T) {
	cases := map[string]string{
		`=HYPERLINK("http://evil.example","x")`: `'=HYPERLINK("http://evil.example","x")`,
		"+1+2":                                  "'+1+2",
		"-2+3":                                  "'-2+3",
		"@SUM(A1)":                              "'@SUM(A1)",
		"\t=1":                                  "'\t=1",
		"\r=1":                                  "'\r=1",
		"-3":                                    "-3",
		"2.5":                                   "2.5",
		"Ana":                                   "Ana",
		"":                                      "",
		"a=b":                                   "a=b",
	}
	for in, want := range cases {
		var buf bytes.Buffer
		w := csvout.NewWriter(&buf)
		if err := w.Write([]string{in}); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		got := ""
		if len(recs) > 0 {
			got = recs[0][0]
		}
		if got != want {
			t.Errorf("cell %q written as %q, want %q", in, got, want)
		}
	}
}
