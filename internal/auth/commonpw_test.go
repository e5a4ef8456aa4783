package auth_test

import (
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/mend"
)

func TestNewPasswordRules(t *testing.T) {
	for _, tc := range []struct {
		password string
		ok       bool
		why      string
	}{
		{"short pass1", false, "at least 12"},            // 11 characters
		{"twelve chars", true, ""},                       // 12, no digits or symbols needed
		{"qwertyqwerty", false, "most commonly used"},    // in the top 10,000
		{"QwertyQwerty", false, "most commonly used"},    // case does not help
		{"1qaz2wsx3edc", false, "most commonly used"},    // keyboard walk from the list
		{"correct horse battery staple", true, ""},       // long and fine
		{strings.Repeat("é", 128), true, ""},             // 128 characters (256 bytes)
		{strings.Repeat("a", 129), false, "at most 128"}, // too long
		{"ümlaut-ünd-ßpaces ", true, ""},                 // any characters, spaces kept
		{"password", false, "at least 12"},               // short wins over common
		{"sonyericsson", false, "most commonly used"},    // 12 characters and common
		{"a sentence that nobody uses", true, ""},        // no composition rules
		{"Mailcreated5240", false, "most commonly used"}, // a long one from the list
		{"\xff\xfe not valid utf-8 at all", false, "cannot be read"},
	} {
		var fe mend.FieldErrors
		auth.CheckNewPassword(&fe, "password", tc.password, tc.password, auth.PasswordOwner{})
		msg := fe["password"]
		if tc.ok != (msg == "") || (!tc.ok && !strings.Contains(msg, tc.why)) {
			t.Errorf("%q: message %q, want ok=%v (%s)", tc.password, msg, tc.ok, tc.why)
		}
	}
	if !auth.IsCommonPassword("123456") || auth.IsCommonPassword("a sentence that nobody uses") {
		t.Error("the embedded list is not loaded")
	}
	var fe mend.FieldErrors
	auth.CheckNewPassword(&fe, "password", "twelve chars", "twelve chars!", auth.PasswordOwner{})
	if fe["confirm"] == "" {
		t.Error("a mismatched confirmation was accepted")
	}
}
