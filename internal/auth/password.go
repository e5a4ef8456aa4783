// Package auth checks who someone is: password hashing, login with
// throttling, the caller's scope, and the one-time links that invite people
// and reset passwords.
package auth

import (
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

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

// CheckNewPassword validates a password someone chooses; field names the
// form field the message belongs to.
func CheckNewPassword(fe *mend.FieldErrors, field, password, confirm string) {
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
	case password != confirm:
		fe.Add("confirm", "The two passwords do not match.")
	}
}
