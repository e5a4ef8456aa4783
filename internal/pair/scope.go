// Package pair manages client pairs: creating a pair and inviting its two
// clients, pausing, resuming and closing it, reassigning it to another
// counselor (with history), and re-sending a client's invitation.
//
// Every Store method takes the caller's Scope and its SQL is restricted by
// access.Pairs: an admin sees the practice's pairs, a counselor their own, a
// client the pair they are a member of. An id outside that is ENOTFOUND.
package pair
