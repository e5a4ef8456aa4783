// Package auth checks who someone is: password hashing, login with
// throttling, the caller's scope, and the one-time links that invite people
// and reset passwords.
package auth

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/mend"
)

// hashParams are OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): set
// explicitly because the library's default parallelism follows NumCPU and so
// would change hashes' cost from one machine to the next.
var hashParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// dummyHash is verified against when the email is unknown, so that an
// unknown email takes as long as a wrong password.
var dummyHash, _ = argon2id.CreateHash("mend-no-such-account", hashParams)

const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
)

// HashPassword hashes a password for storage.
func HashPassword(password string) (string, error) {
	return argon2id.CreateHash(password, hashParams)
}

// VerifyPassword reports whether password matches hash. An empty hash (an
// account whose invitation is not accepted yet) never matches but costs the
// same time.
func VerifyPassword(password, hash string) bool {
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(password, dummyHash)
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	return err == nil && ok
}

// PasswordOwner is whose password is being chosen: a password made of
// their own email or name is the first thing someone who knows them tries.
type PasswordOwner struct {
	Email, Name string
}

// CheckNewPassword validates a password someone chooses; field names the
// form field the message belongs to. Length is the rule (12 to 128
// characters, no composition rules); on top of it a password is refused
// when it is a common one, a common word with digits or symbols added, or
// contains the owner's email name or one of their names.
func CheckNewPassword(fe *mend.FieldErrors, field, password, confirm string, owner PasswordOwner) {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		fe.Add(field, "Use at least 12 characters. A few unrelated words make a strong, memorable password.")
	case n > MaxPasswordLen:
		fe.Add(field, "Use at most 128 characters.")
	case !utf8.ValidString(password):
		fe.Add(field, "The password contains characters that cannot be read. Please type it again.")
	case IsCommonPassword(password):
		fe.Add(field, "This password is one of the most commonly used, so it is among the first that attackers try. Choose another.")
	case isCommonPattern(password):
		fe.Add(field, "This is a common word with numbers or symbols added, which attackers try early. A few unrelated words are stronger.")
	case containsOwn(password, owner):
		fe.Add(field, "The password contains your name or email address, which someone who knows you would try first. Choose another.")
	case password != confirm:
		fe.Add("confirm", "The two passwords do not match.")
	}
}

// isCommonPattern reports whether password is a common password with
// digits or symbols before or after it ("password1234", "2024monkey!").
func isCommonPattern(password string) bool {
	base := strings.TrimFunc(strings.ToLower(password), func(r rune) bool {
		return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
	})
	return utf8.RuneCountInString(base) >= 3 && base != strings.ToLower(password) && IsCommonPassword(base)
}

// containsOwn reports whether password contains the local part of the
// owner's email or any of their names of three letters or more, ignoring
// case.
func containsOwn(password string, owner PasswordOwner) bool {
	p := strings.ToLower(password)
	words := strings.FieldsFunc(strings.ToLower(owner.Name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if local, _, ok := strings.Cut(strings.ToLower(owner.Email), "@"); ok {
		words = append(words, local)
	}
	for _, w := range words {
		if utf8.RuneCountInString(w) >= 3 && strings.Contains(p, w) {
			return true
		}
	}
	return false
}

// opensAnotherAccount reports whether password opens another account with
// the same email address (at another practice). A sign-in names its
// account by email and password together, so no two accounts of one
// address may share a password; only the person who proved they own the
// address (a link, or the signed-in account) is ever told.
func opensAnotherAccount(ctx context.Context, q sqlx.QueryerContext, email string, userID int64, password string) (bool, error) {
	var hashes []string
	if err := sqlx.SelectContext(ctx, q, &hashes, `
		SELECT password_hash FROM users
		WHERE email = $1 AND id <> $2 AND password_hash IS NOT NULL`, email, userID); err != nil {
		return false, fmt.Errorf("auth: other accounts of the address: %w", err)
	}
	for _, h := range hashes {
		if VerifyPassword(password, h) {
			return true, nil
		}
	}
	return false, nil
}

// samePasswordMessage is the field message when a new password already
// opens the person's account at another practice.
const samePasswordMessage = "This password already opens your account at another practice. Choose a different one, so that each password opens one account."
