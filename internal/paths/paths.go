// Package paths is the one way a path or link inside Mend is built: the
// web handlers and templates (internal/web's pathTo and {{path …}}) and
// the links in the emails that stores and the reminder pass write.
package paths

import (
	"fmt"
	"strconv"
	"strings"
)

// To joins segments with slashes, strings as they are and ids in decimal:
// To("pairs", 12, "homework") is "/pairs/12/homework".
func To(segments ...any) string {
	var b strings.Builder
	for _, seg := range segments {
		b.WriteByte('/')
		switch v := seg.(type) {
		case string:
			b.WriteString(v)
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case int:
			b.WriteString(strconv.Itoa(v))
		default:
			b.WriteString(fmt.Sprint(v))
		}
	}
	return b.String()
}

// Link is the absolute link to To(segments…) under base (Mend's BASE_URL,
// with or without a trailing slash), for an email.
func Link(base string, segments ...any) string {
	return strings.TrimRight(base, "/") + To(segments...)
}
