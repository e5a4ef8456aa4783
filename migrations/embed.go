// Package migrations embeds Mend's SQL migrations (goose format) so that the
// binary carries its schema.
package migrations

import "embed"

// FS holds every *.sql migration in this folder.
//
//go:embed *.sql
var FS embed.FS
