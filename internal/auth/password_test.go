package auth

import (
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/mend"
)

func TestPasswordHashing(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	// Explicit argon2id parameters, not the library's machine-dependent
	// defaults.
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q does not use the explicit argon2id parameters", h)
	}
	if !VerifyPassword("correct horse battery", h) {
		t.Error("the right password does not verify")
	}
	if VerifyPassword("correct horse batterY", h) {
		t.Error("a wrong password verifies")
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	// An account without a password (invitation pending) and an unknown
	// email (Login passes "") never match; VerifyPassword still runs a
	// hash for them so that they take as long as a wrong password.
	if VerifyPassword("", "") || VerifyPassword("x", "") || VerifyPassword("mend-no-such-account", "") {
		t.Error("an empty hash matched")
	}
	if VerifyPassword("x", "not-a-hash") {
		t.Error("a malformed hash matched")
	}
}

func TestCheckNewPassword(t *testing.T) {
	cases := []struct {
		password, confirm, field, msg string
	}{
		{"eleven char", "eleven char", "password", "at least 12 characters"},
		{"twelve chars", "twelve chars", "", ""},
		{"ünïcödé-pässwörd", "ünïcödé-pässwörd", "", ""},
		{"twelve chars", "twelve charz", "confirm", "do not match"},
		{strings.Repeat("a", 129), strings.Repeat("a", 129), "password", "at most 128"},
		{"twelve\xffchars", "twelve\xffchars", "password", "cannot be read"},
	}
	for _, tc := range cases {
		var fe mend.FieldErrors
		CheckNewPassword(&fe, "password", tc.password, tc.confirm, PasswordOwner{})
		if tc.field == "" {
			if len(fe) != 0 {
				t.Errorf("%q: unexpected %v", tc.password, fe)
			}
			continue
		}
		if !strings.Contains(fe[tc.field], tc.msg) {
			t.Errorf("%q/%q: messages %v, want %q on %s", tc.password, tc.confirm, fe, tc.msg, tc.field)
		}
	}
}

// TestPasswordOwnAndPatterns: a password built on the person's own email or
// name, or a common word with digits added, is refused; a passphrase is not.
func TestPasswordOwnAndPatterns(t *testing.T) {
	owner := PasswordOwner{Email: "maya.lindqvist@northside.example", Name: "Maya Lindqvist"}
	for _, tc := range []struct {
		password string
		msg      string // "" means accepted
	}{
		{"password1234", "common word with numbers"},
		{"Password1234!", "common word with numbers"},
		{"2024sunshine", "common word with numbers"},
		{"maya.lindqvist@northside.example", "your name or email"},
		{"MAYA.LINDQVIST-secret", "your name or email"},
		{"lindqvist forever 9", "your name or email"},
		{"quiet harbor lantern", ""},
		{"paper moon 12 tulips", ""},
	} {
		var fe mend.FieldErrors
		CheckNewPassword(&fe, "password", tc.password, tc.password, owner)
		got := fe["password"]
		if tc.msg == "" && got != "" || tc.msg != "" && !strings.Contains(got, tc.msg) {
			t.Errorf("%q: message %q, want %q", tc.password, got, tc.msg)
		}
	}
}
