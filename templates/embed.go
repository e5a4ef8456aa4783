// Package templates embeds Mend's page templates, email templates and
// static files.
package templates

import "embed"

// FS holds layout.html, partials/, pages/, email/ and static/.
//
//go:embed layout.html partials pages email static
var FS embed.FS
