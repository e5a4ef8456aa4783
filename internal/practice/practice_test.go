package practice_test

import (
	"testing"

	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/practice"
)

func TestNewPersonValidation(t *testing.T) {
	cases := []struct {
		in        practice.NewPerson
		field     string // "" means valid
		wantEmail string
		wantTZ    string
	}{
		{practice.NewPerson{Name: " Ana ", Email: " Ana@Example.COM ", Timezone: ""}, "", "ana@example.com", "UTC"},
		{practice.NewPerson{Name: "Ana", Email: "ana@example.com", Timezone: "Europe/Lisbon"}, "", "ana@example.com", "Europe/Lisbon"},
		{practice.NewPerson{Name: "", Email: "ana@example.com"}, "name", "", ""},
		{practice.NewPerson{Name: string(make([]byte, 101)), Email: "ana@example.com"}, "name", "", ""},
		{practice.NewPerson{Name: "Ana", Email: "ana"}, "email", "", ""},
		{practice.NewPerson{Name: "Ana", Email: "Ana <ana@example.com>"}, "email", "", ""},
		{practice.NewPerson{Name: "Ana", Email: "ana@example.com", Timezone: "Nowhere/Special"}, "timezone", "", ""},
		{practice.NewPerson{Name: "Ana", Email: "ana@example.com", Timezone: "Local"}, "timezone", "", ""},
		{practice.NewPerson{Name: "Ana", Email: "ana@example.com", Timezone: "../../etc/passwd"}, "timezone", "", ""},
	}
	for _, tc := range cases {
		in := tc.in
		var fe mend.FieldErrors
		in.Validate(&fe, "")
		if tc.field == "" {
			if len(fe) != 0 || in.Email != tc.wantEmail || in.Timezone != tc.wantTZ {
				t.Errorf("%+v: errors %v, email %q, zone %q", tc.in, fe, in.Email, in.Timezone)
			}
			continue
		}
		if fe[tc.field] == "" || len(fe) != 1 {
			t.Errorf("%+v: errors %v, want one on %s", tc.in, fe, tc.field)
		}
	}
}
