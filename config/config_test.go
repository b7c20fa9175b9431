package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadExample(t *testing.T) {
	c, err := Load(filepath.Join("..", "testdata", "config", "example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Merchants) != 2 {
		t.Fatalf("merchants = %d, want 2", len(c.Merchants))
	}
	m1, ok := c.Merchant("201403251000001147")
	if !ok {
		t.Fatal("merchant 201403251000001147 not found")
	}
	if m1.Source != SourceSFTP || m1.SFTP == nil || m1.SFTP.KnownHosts == "" || m1.SFTP.KeyPassphraseEnv != "RECONCILE_KEY_PASSPHRASE" {
		t.Errorf("merchant 1 = %+v, sftp %+v", m1, m1.SFTP)
	}
	if len(m1.IgnoreBusi) != 1 || m1.IgnoreBusi[0] != "108001" {
		t.Errorf("ignore_busi_partner = %q", m1.IgnoreBusi)
	}
	m2, ok := c.Merchant("201508131000004521")
	if !ok {
		t.Fatal("merchant 201508131000004521 not found")
	}
	if m2.SFTP.PasswordEnv != "RECONCILE_SFTP_PASSWORD_4521" || len(m2.SFTP.Fingerprints) != 1 || m2.SFTP.KnownHosts != "" {
		t.Errorf("merchant 2 sftp = %+v", m2.SFTP)
	}
	if m2.Window != DefaultWindow || m2.Deadline != "10:30" || m2.Source != SourceSFTP {
		t.Errorf("merchant 2 defaults: window %d deadline %q source %q", m2.Window, m2.Deadline, m2.Source)
	}
	if _, ok := c.Merchant("999999999999999999"); ok {
		t.Error("unknown merchant found")
	}
}

func TestDefaults(t *testing.T) {
	c, err := parse([]byte(`
[[merchant]]
id = "201403251000001147"
source = "/data/in"
[[merchant]]
id = "201403251000001148"
source = "/data/in2"
window_days = 0
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != DefaultDB || c.Out != DefaultOut || c.Schedule.Daily != DefaultDaily ||
		c.Schedule.Monthly != DefaultMonthly || c.Schedule.CatchUpDays != DefaultCatchUpDays {
		t.Errorf("top-level defaults not applied: %+v", c)
	}
	if c.Merchants[0].Window != 1 || c.Merchants[0].Deadline != "12:00" {
		t.Errorf("merchant defaults not applied: %+v", c.Merchants[0])
	}
	if c.Merchants[1].Window != 0 {
		t.Errorf("explicit window_days = 0 became %d", c.Merchants[1].Window)
	}

	c, err = parse([]byte("[schedule]\ncatch_up_days = 0\n[[merchant]]\nid = \"201403251000001147\"\nsource = \"in\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Schedule.CatchUpDays != 0 {
		t.Errorf("explicit catch_up_days = 0 became %d", c.Schedule.CatchUpDays)
	}
}

// A valid merchant with SFTP; each case below breaks one thing in it.
const goodSFTP = `
[[merchant]]
id = "201403251000001147"
data_dir = "/data/a"
  [merchant.sftp]
  host = "sftp.example:22"
  user = "u"
  key_file = "/k"
  known_hosts = "/kh"
  remote_dir = "/r"
`

func TestValidationProblems(t *testing.T) {
	tests := []struct {
		name     string
		toml     string
		key      string // the one problem's key
		line     int    // its line in toml (0: do not check)
		contains string // in its message
	}{
		{"bad id", `
[[merchant]]
id = "12345"
source = "in"`, "merchant[0].id", 3, "18-digit"},
		{"missing id", `
[[merchant]]
source = "in"`, "merchant[0].id", 2, "required"},
		{"duplicate id", goodSFTP + `
[[merchant]]
id = "201403251000001147"
source = "in"`, "merchant[1].id", 13, "already merchant[0].id"},
		{"no known_hosts nor fingerprints", strings.Replace(goodSFTP, `known_hosts = "/kh"`, "", 1),
			"merchant[0].sftp.known_hosts", 5, "known_hosts or host_key_fingerprints"},
		{"bad fingerprint", strings.Replace(goodSFTP, `known_hosts = "/kh"`, `host_key_fingerprints = ["MD5:aa:bb"]`, 1),
			"merchant[0].sftp.host_key_fingerprints[0]", 9, "SHA256:"},
		{"key in the wrong table", goodSFTP + `deadline = "25:00"`, "merchant[0].sftp.deadline", 0, "unknown key"},
		{"bad deadline in merchant", `
[[merchant]]
id = "201403251000001147"
source = "in"
deadline = "9:30"`, "merchant[0].deadline", 5, "HH:MM"},
		{"bad daily cron", `
[schedule]
daily = "30 8 * *"
[[merchant]]
id = "201403251000001147"
source = "in"`, "schedule.daily", 3, "cron"},
		{"bad monthly cron", `
[schedule]
monthly = "61 8 1 * *"
[[merchant]]
id = "201403251000001147"
source = "in"`, "schedule.monthly", 3, "cron"},
		{"negative catch_up_days", `
[schedule]
catch_up_days = -1
[[merchant]]
id = "201403251000001147"
source = "in"`, "schedule.catch_up_days", 3, "negative"},
		{"unknown top-level key", "dbfile = \"x\"\n[[merchant]]\nid = \"201403251000001147\"\nsource = \"in\"", "dbfile", 1, "unknown key"},
		{"unknown key in second merchant", goodSFTP + `
[[merchant]]
id = "201403251000001148"
source = "in"
windw_days = 2`, "merchant[1].windw_days", 15, "unknown key"},
		{"unknown key in sftp", strings.Replace(goodSFTP, `user = "u"`, "user = \"u\"\n  prot = 22", 1),
			"merchant[0].sftp.prot", 8, "unknown key"},
		{"line after a multi-line array", strings.Replace(goodSFTP, `known_hosts = "/kh"`, "host_key_fingerprints = [\n    \"SHA256:abc=\", # x = y\n    \"SHA256:def\",\n  ]\n  remote_dri = \"/r\"", 1),
			"merchant[0].sftp.remote_dri", 13, "unknown key"},
		{"unknown key in an inline table", `
[[merchant]]
id = "201403251000001147"
data_dir = "d"
sftp = { host = "h:22", user = "u", key_file = "k", known_hosts = "kh", remote_dir = "/r", hots = "x" }`,
			"merchant[0].sftp.hots", 5, "unknown key"},
		{"missing remote_dir", strings.Replace(goodSFTP, `remote_dir = "/r"`, "", 1), "merchant[0].sftp.remote_dir", 5, "required"},
		{"sftp without data_dir", strings.Replace(goodSFTP, `data_dir = "/data/a"`, "", 1), "merchant[0].data_dir", 2, "required with sftp"},
		{"negative window", strings.Replace(goodSFTP, `data_dir = "/data/a"`, "data_dir = \"d\"\nwindow_days = -1", 1), "merchant[0].window_days", 5, "outside"},
		{"window too large", strings.Replace(goodSFTP, `data_dir = "/data/a"`, "data_dir = \"d\"\nwindow_days = 32", 1), "merchant[0].window_days", 5, "outside"},
		{"host without port", strings.Replace(goodSFTP, `sftp.example:22`, `sftp.example`, 1), "merchant[0].sftp.host", 6, "port"},
		{"host with bad port", strings.Replace(goodSFTP, `sftp.example:22`, `sftp.example:ssh`, 1), "merchant[0].sftp.host", 6, "port"},
		{"no user", strings.Replace(goodSFTP, `user = "u"`, "", 1), "merchant[0].sftp.user", 5, "required"},
		{"no key nor password", strings.Replace(goodSFTP, `key_file = "/k"`, "", 1), "merchant[0].sftp.key_file", 5, "password_env"},
		{"passphrase without key", strings.Replace(goodSFTP, `key_file = "/k"`, `password_env = "P"`+"\nkey_passphrase_env = \"Q\"", 1),
			"merchant[0].sftp.key_passphrase_env", 9, "without key_file"},
		{"no source", `
[[merchant]]
id = "201403251000001147"`, "merchant[0].source", 2, "required"},
		{"source sftp without section", `
[[merchant]]
id = "201403251000001147"
source = "sftp"`, "merchant[0].source", 4, "[merchant.sftp]"},
		{"no merchant", `db = "x.db"`, "merchant", 0, "at least one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.toml))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			if len(ve.Problems) != 1 {
				t.Fatalf("problems = %q, want exactly one for %s", ve.Problems, tt.key)
			}
			p := ve.Problems[0]
			if p.Key != tt.key || !strings.Contains(p.Msg, tt.contains) {
				t.Errorf("problem = %q, want key %s with %q", p, tt.key, tt.contains)
			}
			if tt.line != 0 && p.Line != tt.line {
				t.Errorf("problem %q at line %d, want %d", p, p.Line, tt.line)
			}
			if !strings.Contains(err.Error(), tt.key+": ") {
				t.Errorf("error %q does not name key %s", err, tt.key)
			}
		})
	}
}

func TestSeveralProblemsAtOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.toml")
	src := `[schedule]
daily = "every morning"
[[merchant]]
id = "12"
window_days = -3
  [merchant.sftp]
  host = "h"
  user = "u"
  password_env = "P"
  remote_dir = "/r"
[[merchant]]
id = "201403251000001147"
source = "in"
colour = "blue"
`
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	want := map[string]int{
		"schedule.daily":               2,
		"merchant[0].id":               4,
		"merchant[0].window_days":      5,
		"merchant[0].data_dir":         3,
		"merchant[0].sftp.host":        7,
		"merchant[0].sftp.known_hosts": 6,
		"merchant[1].colour":           14,
	}
	got := make(map[string]int)
	for _, p := range ve.Problems {
		got[p.Key] = p.Line
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("problems (key: line) =\n %v\nwant\n %v", got, want)
	}
	msg := err.Error()
	if !strings.Contains(msg, path+":14: merchant[1].colour: unknown key") || !strings.Contains(msg, "7 problems") {
		t.Errorf("error text does not give file:line: key:\n%s", msg)
	}
}

func TestSyntaxErrorHasFileAndLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "syntax.toml")
	if err := os.WriteFile(path, []byte("db = \"x\"\nout = reports\n[[merchant]]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Errorf("err = %v, want it to name %s:2", err, path)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent.toml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v, want os.ErrNotExist", err)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	// A password pasted where an env var name belongs, and a password key
	// that does not exist: both are errors, neither shows the value.
	bad := strings.Replace(goodSFTP, `key_file = "/k"`, `password_env = "`+secret+`"`+"\n  password = \""+secret+"\"", 1)
	_, err := parse([]byte(bad))
	if err == nil {
		t.Fatal("no error for a password in the file")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows the secret: %v", err)
	}
	for _, want := range []string{"merchant[0].sftp.password_env", "merchant[0].sftp.password: unknown key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}

	c, err := parse([]byte(strings.Replace(goodSFTP, `key_file = "/k"`, `password_env = "RECON_PW"`+"\n  key_file = \"/k\"\n  key_passphrase_env = \"RECON_PP\"", 1)))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"RECON_PW": secret, "RECON_PP": secret + "pp"}
	getenv := func(k string) string { return env[k] }
	s := c.Merchants[0].SFTP
	if pw, err := s.Password(getenv); err != nil || pw != secret {
		t.Errorf("Password = %q, %v", pw, err)
	}
	if pp, err := s.KeyPassphrase(getenv); err != nil || pp != secret+"pp" {
		t.Errorf("KeyPassphrase = %q, %v", pp, err)
	}
	for _, printed := range []string{c.String(), c.Merchants[0].String(), s.String(), fmt.Sprintf("%v %+v", c, *s)} {
		if strings.Contains(printed, secret) {
			t.Errorf("printed config holds the secret: %s", printed)
		}
	}
}

func TestSecretFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		varName string
		env     map[string]string
		want    string
		errWith string
	}{
		{"set", "PW", map[string]string{"PW": "x y"}, "x y", ""},
		{"not configured", "", map[string]string{"PW": "x"}, "", ""},
		{"configured but unset", "PW", nil, "", "PW"},
		{"configured but empty", "PW", map[string]string{"PW": ""}, "", "PW"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &SFTP{PasswordEnv: tt.varName, KeyPassphraseEnv: tt.varName}
			getenv := func(k string) string { return tt.env[k] }
			for _, f := range []func(func(string) string) (string, error){s.Password, s.KeyPassphrase} {
				got, err := f(getenv)
				if tt.errWith == "" && (err != nil || got != tt.want) {
					t.Errorf("got %q, %v; want %q", got, err, tt.want)
				}
				if tt.errWith != "" && (err == nil || !strings.Contains(err.Error(), "environment variable "+tt.errWith)) {
					t.Errorf("err = %v, want one naming %s", err, tt.errWith)
				}
			}
		})
	}
	// The real environment works through os.Getenv.
	t.Setenv("RECONCILE_TEST_PW", "from-env")
	if pw, err := (&SFTP{PasswordEnv: "RECONCILE_TEST_PW"}).Password(os.Getenv); err != nil || pw != "from-env" {
		t.Errorf("os.Getenv: %q, %v", pw, err)
	}
}

func TestDeadlineOn(t *testing.T) {
	tests := []struct {
		deadline string
		settle   time.Time
		want     string
	}{
		{"12:00", time.Date(2026, 3, 31, 0, 0, 0, 0, Shanghai), "2026-04-01 12:00 +0800"},
		{"09:15", time.Date(2026, 12, 31, 0, 0, 0, 0, Shanghai), "2027-01-01 09:15 +0800"},
		// 2026-03-31 20:00 UTC is already April 1st in Shanghai.
		{"12:00", time.Date(2026, 3, 31, 20, 0, 0, 0, time.UTC), "2026-04-02 12:00 +0800"},
	}
	for _, tt := range tests {
		m := &Merchant{Deadline: tt.deadline}
		if got := m.DeadlineOn(tt.settle).Format("2006-01-02 15:04 -0700"); got != tt.want {
			t.Errorf("DeadlineOn(%s, %v) = %s, want %s", tt.deadline, tt.settle, got, tt.want)
		}
	}
}

func TestShanghai(t *testing.T) {
	_, off := time.Date(2026, 7, 1, 0, 0, 0, 0, Shanghai).Zone()
	if off != 8*3600 {
		t.Errorf("Shanghai offset = %d", off)
	}
}

// FuzzParse checks that no input makes parse panic, and that what it
// accepts passes Validate.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "testdata", "config", "example.toml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(goodSFTP))
	f.Add([]byte("[[a.b]]\n[a]\n[[a.b]]\nx = [\n1,\n]\ny = { z = { w = 1 } }\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parse(data)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("parse accepted a config Validate rejects: %v", verr)
			}
		}
	})
}
