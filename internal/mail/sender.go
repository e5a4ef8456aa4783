package mail

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// Outgoing is one message as the sender needs it: everything comes from the
// email log row and the practice's mail settings.
type Outgoing struct {
	ID          int64 // email_log id, for the Message-ID
	FromName    string
	ReplyTo     string
	To, ToName  string
	Subject     string
	Text, HTML  string
	Unsubscribe string // one-click URL; empty: no List-Unsubscribe headers
}

// SendError says how a send failed. Permanent failures (SMTP 5xx, an
// address that cannot be parsed) are not retried; temporary ones (4xx,
// connection refused, timeouts) are.
type SendError struct {
	Permanent bool
	Code      int    // SMTP reply code, 0 when there was none
	Stage     string // dial, mail, rcpt, data, compose
	Err       error
}

func (e *SendError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	if e.Code != 0 {
		return fmt.Sprintf("%s SMTP failure at %s (%d): %v", kind, e.Stage, e.Code, e.Err)
	}
	return fmt.Sprintf("%s failure at %s: %v", kind, e.Stage, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// ErrUnconfirmed means the whole message and the final "." were written but
// the server's reply never came (connection lost or timed out). The server
// may well have accepted it; it is a temporary failure all the same, and
// the message is sent again: a possible duplicate (same Message-ID) is the
// lesser harm than a lost message.
var ErrUnconfirmed = errors.New("mail: message sent to the SMTP server, acceptance not confirmed")

// Sender sends one message. It returns nil only once the server has
// accepted the message (its reply to the final ".").
type Sender interface {
	Send(ctx context.Context, m Outgoing) error
}

// SMTPSender sends over SMTP with go-mail, keeping a few connections open
// for reuse: a burst of reminders does not pay for a TCP and TLS handshake
// per message.
type SMTPSender struct {
	client  *gomail.Client // settings and dialing (TLS, AUTH)
	from    string         // envelope and header address (MAIL_FROM)
	domain  string         // for Message-IDs
	timeout time.Duration
	idle    chan pooled
}

type pooled struct {
	c    *smtp.Client
	used time.Time
}

// SenderOptions tune the SMTP sender.
type SenderOptions struct {
	// Timeout bounds each message (and each dial): it must stay well under
	// the asynq task timeout so a hung server never outlives the task.
	Timeout time.Duration
	// PoolSize is how many idle connections are kept (about the worker's
	// concurrency).
	PoolSize int
}

// maxIdle is how long a pooled connection may sit unused; servers drop idle
// clients after a few minutes (RFC 5321 suggests at least 5).
const maxIdle = 30 * time.Second

// NewSMTPSender configures a sender from SMTP_URL and MAIL_FROM.
//
//	smtp://user:pass@host:587     STARTTLS when the server offers it
//	smtps://user:pass@host:465    TLS from the first byte
//	smtp://host:2525?tls=none     never TLS (a local test listener)
func NewSMTPSender(rawURL, mailFrom string, o SenderOptions) (*SMTPSender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return nil, errors.New("mail: SMTP_URL must be smtp://host:port or smtps://host:port")
	}
	addr, err := netmail.ParseAddress(mailFrom)
	if err != nil {
		return nil, fmt.Errorf("mail: MAIL_FROM: %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	if o.PoolSize <= 0 {
		o.PoolSize = 10
	}
	opts := []gomail.Option{gomail.WithTimeout(o.Timeout)}
	port := 25
	if u.Scheme == "smtps" {
		port = 465
		opts = append(opts, gomail.WithSSL())
	} else if u.Query().Get("tls") == "none" {
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, errors.New("mail: SMTP_URL has a bad port")
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if u.User != nil && u.User.Username() != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	c, err := gomail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP client: %w", err)
	}
	domain := addr.Address[strings.LastIndexByte(addr.Address, '@')+1:]
	return &SMTPSender{client: c, from: addr.Address, domain: domain, timeout: o.Timeout, idle: make(chan pooled, o.PoolSize)}, nil
}

// Close closes the idle connections.
func (s *SMTPSender) Close() {
	for {
		select {
		case p := <-s.idle:
			quit(p.c)
		default:
			return
		}
	}
}

// get returns an idle connection, or dials a new one.
func (s *SMTPSender) get(ctx context.Context) (c *smtp.Client, reused bool, err error) {
	for {
		select {
		case p := <-s.idle:
			if time.Since(p.used) > maxIdle {
				_ = p.c.Close()
				continue
			}
			return p.c, true, nil
		default:
			c, err := s.client.DialToSMTPClientWithContext(ctx)
			return c, false, err
		}
	}
}

func (s *SMTPSender) put(c *smtp.Client) {
	select {
	case s.idle <- pooled{c: c, used: time.Now()}:
	default:
		quit(c)
	}
}

// quit says goodbye within a short deadline and closes the connection:
// go-mail's Quit leaves the socket open when QUIT itself fails (a pooled
// connection past its deadline).
func quit(c *smtp.Client) {
	_ = c.UpdateDeadline(2 * time.Second)
	_ = c.Quit()
	_ = c.Close()
}

// Send implements Sender.
func (s *SMTPSender) Send(ctx context.Context, m Outgoing) error {
	msg, err := s.compose(m)
	if err != nil {
		return &SendError{Permanent: true, Stage: "compose", Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	for {
		c, reused, err := s.get(ctx)
		if err != nil {
			return classify("dial", err)
		}
		err = s.transact(ctx, c, msg)
		var se *SendError
		if err == nil {
			s.put(c)
			return nil
		}
		_ = c.Close()
		// A pooled connection the server has meanwhile closed fails at the
		// first command, before anything of the message was sent: try once
		// more on a fresh connection.
		if reused && errors.As(err, &se) && se.Stage == "mail" && se.Code == 0 {
			continue
		}
		return err
	}
}

// transact runs one SMTP transaction on c and returns nil only on the
// server's 250 to the final ".".
func (s *SMTPSender) transact(ctx context.Context, c *smtp.Client, msg *gomail.Msg) error {
	deadline, _ := ctx.Deadline()
	if err := c.UpdateDeadline(time.Until(deadline)); err != nil {
		return &SendError{Stage: "mail", Err: err}
	}
	from, err := msg.GetSender(false)
	if err != nil {
		return &SendError{Permanent: true, Stage: "compose", Err: err}
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return &SendError{Permanent: true, Stage: "compose", Err: err}
	}
	if err := envelope(c, from, rcpts); err != nil {
		return err
	}
	w := c.Text.DotWriter()
	if _, err := msg.WriteTo(w); err != nil {
		return classify("data", err)
	}
	if err := w.Close(); err != nil { // the final "." may have left before the failure
		return &SendError{Stage: "data", Err: fmt.Errorf("%w: %v", ErrUnconfirmed, err)}
	}
	if _, _, err := c.Text.ReadResponse(250); err != nil {
		var tp *textproto.Error
		if errors.As(err, &tp) {
			return classify("data", err)
		}
		return &SendError{Stage: "data", Err: fmt.Errorf("%w: %v", ErrUnconfirmed, err)}
	}
	return nil
}

// envelope sends MAIL FROM, RCPT TO and DATA and reads the replies up to
// the 354 that opens the message. A server that offers PIPELINING (RFC
// 2920; every common MTA does) gets the commands in one write and the
// replies are read after them: two round trips per message instead of
// four, which halves the time a message takes to a server across a
// network. go-mail's client sends one command per round trip, so Mend
// writes these three lines itself, on the connection go-mail dialed,
// secured and authenticated. (The body is quoted-printable, 7-bit, so it
// needs no BODY=8BITMIME.) Any failure returns the first failing reply;
// Send then closes the connection, so no later command depends on what the
// server made of the rest.
func envelope(c *smtp.Client, from string, rcpts []string) error {
	type command struct {
		line  string
		code  int // expected: 250, 25 (any 25x), 354
		stage string
	}
	mail := "MAIL FROM:" + from
	if ok, _ := c.Extension("SMTPUTF8"); ok && !isASCII(append([]string{from}, rcpts...)) {
		mail += " SMTPUTF8"
	}
	cmds := []command{{mail, 250, "mail"}}
	for _, r := range rcpts {
		cmds = append(cmds, command{"RCPT TO:" + r, 25, "rcpt"})
	}
	cmds = append(cmds, command{"DATA", 354, "data"})
	for _, cmd := range cmds {
		if strings.ContainsAny(cmd.line, "\r\n") {
			return &SendError{Permanent: true, Stage: "compose", Err: errors.New("a line break in an address")}
		}
	}
	pipelining, _ := c.Extension("PIPELINING")
	send := func(cmds []command) error {
		for _, cmd := range cmds {
			if _, err := c.Text.W.WriteString(cmd.line + "\r\n"); err != nil {
				return classify(cmd.stage, err)
			}
		}
		if err := c.Text.W.Flush(); err != nil {
			return classify(cmds[0].stage, err)
		}
		var first error
		for _, cmd := range cmds {
			if _, _, err := c.Text.ReadResponse(cmd.code); err != nil && first == nil {
				first = classify(cmd.stage, err)
				var tp *textproto.Error
				if !errors.As(err, &tp) {
					return first // the connection is gone: no more replies
				}
			}
		}
		return first
	}
	if pipelining {
		return send(cmds)
	}
	for i := range cmds {
		if err := send(cmds[i : i+1]); err != nil {
			return err
		}
	}
	return nil
}

// isASCII says whether every address is plain ASCII (else the envelope
// needs SMTPUTF8, RFC 6531).
func isASCII(ss []string) bool {
	for _, s := range ss {
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return false
			}
		}
	}
	return true
}

// classify turns an SMTP or network error into a SendError: 5xx replies
// are permanent, everything else (4xx, refused, reset, timeout) temporary.
func classify(stage string, err error) *SendError {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return &SendError{Permanent: tp.Code >= 500, Code: tp.Code, Stage: stage, Err: err}
	}
	return &SendError{Stage: stage, Err: err}
}

// compose builds the MIME message: plain text first, HTML as the
// alternative. Names and subjects are stripped of control characters
// before go-mail encodes them, so nothing stored in a row can start a
// header of its own.
func (s *SMTPSender) compose(m Outgoing) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	// Display names go in as net/mail addresses, which quote and encode
	// them (RFC 5322 quoted-string, RFC 2047 for non-ASCII): a name with a
	// '"' in it used to be pasted between quotes and made the address
	// unparseable, so every email to that person failed.
	msg.FromMailAddress(&netmail.Address{Name: oneLine(m.FromName), Address: s.from})
	to, err := netmail.ParseAddress(m.To)
	if err != nil || strings.ContainsAny(m.To, "\r\n") {
		return nil, fmt.Errorf("bad recipient address")
	}
	msg.ToMailAddress(&netmail.Address{Name: oneLine(m.ToName), Address: to.Address})
	if m.ReplyTo != "" {
		if rt, err := netmail.ParseAddress(m.ReplyTo); err == nil && !strings.ContainsAny(m.ReplyTo, "\r\n") {
			if err := msg.ReplyTo(rt.Address); err != nil {
				return nil, err
			}
		}
	}
	msg.Subject(oneLine(m.Subject))
	// The same id on every attempt, derived from the email_log row only: a
	// message sent again after a worker crash (see Delivery) carries the
	// id of the first, so the receiving system can tell it is one message.
	msg.SetMessageIDWithValue(fmt.Sprintf("mend-email-%d@%s", m.ID, s.domain))
	msg.SetDate()
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	if m.Unsubscribe != "" {
		u, err := url.Parse(m.Unsubscribe)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || strings.ContainsAny(m.Unsubscribe, "\r\n<> ") {
			return nil, fmt.Errorf("bad unsubscribe URL")
		}
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+u.String()+">")
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	return msg, nil
}

// oneLine replaces control characters (CR, LF, tabs, …) with spaces and
// collapses runs of space.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
