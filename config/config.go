// Package config reads the reconcile configuration file: one TOML file,
// several merchants, the daemon's schedule (SPEC §5, §7).
//
// Secrets never live in the file nor in a Config value: the file names the
// environment variables that hold them (password_env, key_passphrase_env)
// and they are read only when a connection needs them, so nothing that
// prints or logs a Config can leak one.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Shanghai must resolve on machines without tzdata

	"github.com/BurntSushi/toml"
	"github.com/robfig/cron/v3"
)

// Shanghai is the time zone of LianLian's settle dates and of the schedule
// (SPEC §7). If the zone database cannot be read it falls back to a fixed
// +08:00 zone, which is exact: China has no daylight saving time.
var Shanghai = loadShanghai()

func loadShanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*60*60)
	}
	return loc
}

// Defaults applied by Load to keys the file leaves out.
const (
	DefaultDB          = "reconcile.db"
	DefaultOut         = "reports"
	DefaultDaily       = "30 8 * * *" // 08:30 for yesterday's settle date (SPEC §7)
	DefaultMonthly     = "30 8 1 * *" // 08:30 on the 1st for the previous month
	DefaultCatchUpDays = 7
	DefaultWindow      = 1 // SPEC §4
	DefaultDeadline    = "12:00"
	SourceSFTP         = "sftp"
	maxWindowDays      = 31
)

// Config is the whole configuration file.
type Config struct {
	DB        string     `toml:"db"`       // SQLite file, default "reconcile.db"
	Out       string     `toml:"out"`      // report folder, default "reports"
	Merchants []Merchant `toml:"merchant"` // [[merchant]] tables
	Schedule  Schedule   `toml:"schedule"`
}

// Schedule is the daemon's timetable, cron specs in Asia/Shanghai.
type Schedule struct {
	Daily       string `toml:"daily"`         // default "30 8 * * *"
	Monthly     string `toml:"monthly"`       // default "30 8 1 * *"
	CatchUpDays int    `toml:"catch_up_days"` // default 7; 0 turns catch-up off
}

// Merchant is one LianLian merchant number and where its files come from.
type Merchant struct {
	ID         string   `toml:"id"`                  // 18-digit oid_partner
	Name       string   `toml:"name"`                // optional label for logs and reports
	DataDir    string   `toml:"data_dir"`            // where fetched files go (required with sftp)
	Source     string   `toml:"source"`              // "sftp" or a local folder; default "sftp" when [merchant.sftp] is present
	Ledger     string   `toml:"ledger"`              // optional ledger CSV imported before each run
	Window     int      `toml:"window_days"`         // default 1 (SPEC §4); 0 is allowed
	IgnoreBusi []string `toml:"ignore_busi_partner"` // busi_partner codes counted but not matched
	Deadline   string   `toml:"deadline"`            // "HH:MM" Asia/Shanghai on D+1, default "12:00"
	SFTP       *SFTP    `toml:"sftp"`
}

// SFTP is how to reach LianLian's SFTP server for one merchant. It holds the
// NAMES of the environment variables with the secrets, never the secrets.
type SFTP struct {
	Host             string   `toml:"host"` // host:port
	User             string   `toml:"user"`
	KeyFile          string   `toml:"key_file"`
	KeyPassphraseEnv string   `toml:"key_passphrase_env"` // env var holding the key's passphrase
	PasswordEnv      string   `toml:"password_env"`       // env var holding the password
	KnownHosts       string   `toml:"known_hosts"`
	Fingerprints     []string `toml:"host_key_fingerprints"` // "SHA256:…" as ssh-keygen -lf prints
	RemoteDir        string   `toml:"remote_dir"`
}

// Problem is one thing wrong with a configuration. Key is the key path as a
// user would find it in the file, e.g. "merchant[1].sftp.known_hosts";
// Line is its line in the file, 0 when unknown.
type Problem struct {
	Key  string
	Msg  string
	Line int
}

func (p Problem) String() string { return p.Key + ": " + p.Msg }

// ValidationError lists every problem found in a configuration, so that a
// user fixes them all in one go. File is empty for a Config not read by Load.
type ValidationError struct {
	File     string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration")
	if e.File != "" {
		b.WriteString(" " + e.File)
	}
	if len(e.Problems) == 1 {
		b.WriteString(": ")
		e.writeProblem(&b, e.Problems[0])
		return b.String()
	}
	fmt.Fprintf(&b, ": %d problems", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		e.writeProblem(&b, p)
	}
	return b.String()
}

func (e *ValidationError) writeProblem(b *strings.Builder, p Problem) {
	if p.Line > 0 {
		if e.File != "" {
			fmt.Fprintf(b, "%s:%d: ", e.File, p.Line)
		} else {
			fmt.Fprintf(b, "line %d: ", p.Line)
		}
	}
	b.WriteString(p.String())
}

// Load reads, defaults and validates the configuration file at path. A TOML
// syntax error comes back with its file and line; an unknown key or a
// failed validation as a *ValidationError naming every problem.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	c, err := parse(data)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("configuration %s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		var ve *ValidationError
		if errors.As(err, &ve) {
			ve.File = path
			return nil, ve
		}
		return nil, fmt.Errorf("configuration %s: %w", path, err)
	}
	return c, nil
}

// parse decodes data, rejects unknown keys, applies defaults and validates.
func parse(data []byte) (*Config, error) {
	var c Config
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&c)
	if err != nil {
		return nil, err
	}
	// A second, narrow decode tells an explicit 0 from an absent key for the
	// two integers whose zero is meaningful.
	var explicit struct {
		Merchants []struct {
			Window *int `toml:"window_days"`
		} `toml:"merchant"`
		Schedule struct {
			CatchUpDays *int `toml:"catch_up_days"`
		} `toml:"schedule"`
	}
	if _, err := toml.Decode(string(data), &explicit); err != nil {
		return nil, err
	}
	for i := range c.Merchants {
		if i < len(explicit.Merchants) && explicit.Merchants[i].Window != nil {
			continue
		}
		c.Merchants[i].Window = DefaultWindow
	}
	if explicit.Schedule.CatchUpDays == nil {
		c.Schedule.CatchUpDays = DefaultCatchUpDays
	}
	c.applyDefaults()

	loc := locateKeys(data)
	var problems []Problem
	for _, k := range md.Undecoded() {
		key, line := loc.undecoded(k)
		msg := "unknown key"
		if strings.HasSuffix(key, ".password") || strings.HasSuffix(key, ".passphrase") || strings.HasSuffix(key, ".key_passphrase") {
			// Do not echo the value: it is likely a secret.
			msg = "unknown key (secrets are not kept in the file: name an environment variable with password_env or key_passphrase_env)"
		}
		problems = append(problems, Problem{Key: key, Msg: msg, Line: line})
	}
	if err := c.Validate(); err != nil {
		var ve *ValidationError
		if !errors.As(err, &ve) {
			return nil, err
		}
		for _, p := range ve.Problems {
			p.Line = loc.line(p.Key)
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		// In file order, so the list reads along the file; problems
		// without a line last.
		sort.SliceStable(problems, func(i, j int) bool {
			li, lj := problems[i].Line, problems[j].Line
			return li != 0 && (lj == 0 || li < lj)
		})
		return nil, &ValidationError{Problems: problems}
	}
	return &c, nil
}

func (c *Config) applyDefaults() {
	if c.DB == "" {
		c.DB = DefaultDB
	}
	if c.Out == "" {
		c.Out = DefaultOut
	}
	if c.Schedule.Daily == "" {
		c.Schedule.Daily = DefaultDaily
	}
	if c.Schedule.Monthly == "" {
		c.Schedule.Monthly = DefaultMonthly
	}
	for i := range c.Merchants {
		m := &c.Merchants[i]
		if m.Deadline == "" {
			m.Deadline = DefaultDeadline
		}
		if m.Source == "" && m.SFTP != nil {
			m.Source = SourceSFTP
		}
	}
}

var (
	merchantID = regexp.MustCompile(`^[0-9]{18}$`)
	envName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate checks the configuration as Load leaves it (defaults applied) and
// returns a *ValidationError listing every problem, or nil.
func (c *Config) Validate() error {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	for _, s := range []struct{ key, spec string }{
		{"schedule.daily", c.Schedule.Daily},
		{"schedule.monthly", c.Schedule.Monthly},
	} {
		if _, err := cron.ParseStandard(s.spec); err != nil {
			add(s.key, "not a 5-field cron spec (%v)", err)
		}
	}
	if c.Schedule.CatchUpDays < 0 {
		add("schedule.catch_up_days", "must not be negative")
	}
	if len(c.Merchants) == 0 {
		add("merchant", "at least one [[merchant]] is required")
	}
	seen := make(map[string]int)
	for i := range c.Merchants {
		m := &c.Merchants[i]
		p := fmt.Sprintf("merchant[%d]", i)
		switch {
		case m.ID == "":
			add(p+".id", "required (the 18-digit oid_partner)")
		case !merchantID.MatchString(m.ID):
			add(p+".id", "%q is not an 18-digit merchant number", m.ID)
		default:
			if j, dup := seen[m.ID]; dup {
				add(p+".id", "%s is already merchant[%d].id", m.ID, j)
			} else {
				seen[m.ID] = i
			}
		}
		if m.Window < 0 || m.Window > maxWindowDays {
			add(p+".window_days", "%d is outside 0…%d", m.Window, maxWindowDays)
		}
		if _, err := parseClock(m.Deadline); err != nil {
			add(p+".deadline", "%v", err)
		}
		for j, b := range m.IgnoreBusi {
			if strings.TrimSpace(b) == "" {
				add(fmt.Sprintf("%s.ignore_busi_partner[%d]", p, j), "empty")
			}
		}
		switch {
		case m.Source == "":
			add(p+".source", `required: "sftp" with a [merchant.sftp] section, or a local folder`)
		case m.Source == SourceSFTP && m.SFTP == nil:
			add(p+".source", `"sftp" needs a [merchant.sftp] section`)
		}
		if m.SFTP != nil {
			if m.DataDir == "" {
				add(p+".data_dir", "required with sftp: the folder fetched files go to")
			}
			validateSFTP(p+".sftp", m.SFTP, add)
		}
	}
	if len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

func validateSFTP(p string, s *SFTP, add func(key, format string, args ...any)) {
	if s.Host == "" {
		add(p+".host", "required (host:port)")
	} else if _, port, err := net.SplitHostPort(s.Host); err != nil {
		add(p+".host", "%q needs a port, as host:port", s.Host)
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		add(p+".host", "%q has no valid port", s.Host)
	}
	if s.User == "" {
		add(p+".user", "required")
	}
	if s.KeyFile == "" && s.PasswordEnv == "" {
		add(p+".key_file", "one of key_file or password_env is required")
	}
	// The values of these two are names; a value that is not one may be a
	// pasted secret, so it is never echoed.
	if s.PasswordEnv != "" && !envName.MatchString(s.PasswordEnv) {
		add(p+".password_env", "must be the NAME of an environment variable holding the password, not the password")
	}
	if s.KeyPassphraseEnv != "" && !envName.MatchString(s.KeyPassphraseEnv) {
		add(p+".key_passphrase_env", "must be the NAME of an environment variable holding the passphrase, not the passphrase")
	}
	if s.KeyPassphraseEnv != "" && s.KeyFile == "" {
		add(p+".key_passphrase_env", "set without key_file")
	}
	if s.KnownHosts == "" && len(s.Fingerprints) == 0 {
		add(p+".known_hosts", "one of known_hosts or host_key_fingerprints is required (the host key is always checked)")
	}
	for i, f := range s.Fingerprints {
		if !strings.HasPrefix(f, "SHA256:") || len(f) == len("SHA256:") {
			add(fmt.Sprintf("%s.host_key_fingerprints[%d]", p, i), "%q is not a SHA256:… fingerprint (ssh-keygen -lf prints one)", f)
		}
	}
	if s.RemoteDir == "" {
		add(p+".remote_dir", "required")
	}
}

// parseClock reads "HH:MM" (two digits each) as minutes after midnight.
func parseClock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 || s[0] == '+' || s[3] == '+' {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return h*60 + m, nil
}

// Merchant returns the merchant with the given oid_partner.
func (c *Config) Merchant(id string) (*Merchant, bool) {
	for i := range c.Merchants {
		if c.Merchants[i].ID == id {
			return &c.Merchants[i], true
		}
	}
	return nil, false
}

// DeadlineOn is when to stop retrying files not yet published for the daily
// settle date settleDate: the merchant's deadline on the following day, in
// Asia/Shanghai (daily files for D appear on D+1, SPEC §2.1). Only the
// calendar date of settleDate (read in Asia/Shanghai) matters. An invalid
// Deadline (Validate rejects it) falls back to DefaultDeadline.
func (m *Merchant) DeadlineOn(settleDate time.Time) time.Time {
	mins, err := parseClock(m.Deadline)
	if err != nil {
		mins, _ = parseClock(DefaultDeadline)
	}
	y, mo, d := settleDate.In(Shanghai).Date()
	return time.Date(y, mo, d+1, mins/60, mins%60, 0, 0, Shanghai)
}

// Password reads the password from the environment variable PasswordEnv
// names. It returns "" and no error when no password_env is configured; an
// error naming the variable (never a value) when it is configured but
// empty or unset.
func (s *SFTP) Password(getenv func(string) string) (string, error) {
	return secret(getenv, s.PasswordEnv, "password_env")
}

// KeyPassphrase reads the key passphrase like Password does.
func (s *SFTP) KeyPassphrase(getenv func(string) string) (string, error) {
	return secret(getenv, s.KeyPassphraseEnv, "key_passphrase_env")
}

func secret(getenv func(string) string, name, key string) (string, error) {
	if name == "" {
		return "", nil
	}
	v := getenv(name)
	if v == "" {
		return "", fmt.Errorf("environment variable %s (sftp.%s) is empty or unset", name, key)
	}
	return v, nil
}

// String summarises the configuration for logs. It holds no secret (none is
// ever stored), only where the secrets come from.
func (c *Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "db=%s out=%s daily=%q monthly=%q catch_up_days=%d merchants=[",
		c.DB, c.Out, c.Schedule.Daily, c.Schedule.Monthly, c.Schedule.CatchUpDays)
	for i, m := range c.Merchants {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(m.String())
	}
	b.WriteString("]")
	return b.String()
}

// String names the merchant and its source, for logs.
func (m *Merchant) String() string {
	s := m.ID
	if m.Name != "" {
		s += " (" + m.Name + ")"
	}
	s += " source=" + m.Source
	if m.SFTP != nil {
		s += " " + m.SFTP.String()
	}
	return s
}

// String describes the connection without any secret.
func (s *SFTP) String() string {
	auth := "key " + s.KeyFile
	if s.KeyFile == "" {
		auth = "password from $" + s.PasswordEnv
	}
	return fmt.Sprintf("sftp %s@%s dir=%s (%s)", s.User, s.Host, s.RemoteDir, auth)
}
