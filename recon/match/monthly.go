package match

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"slices"
	"sort"

	"github.com/lianlian-recon/reconcile/recon"
)

// A monthly file holds every row of the month's daily files: thirty million
// for a large merchant. MonthlyCompare compares it with them (SPEC §2.6)
// without holding either side's rows: of each monthly row it keeps a
// fingerprint of what makes two rows the same row and its line, 16 bytes;
// the daily files are streamed one day at a time; and the few rows that
// differ are read again for their details at the end.
//
// Fingerprints are 64-bit keyed hashes (hash/maphash) with a seed chosen
// per comparison: two different rows of one day share a fingerprint with a
// probability near n²/2⁶⁵ (3·10⁻⁸ for a million-row day), and a file
// cannot be made to collide on purpose without the seed.

// lineKey is what makes two statement rows the same row: everything LianLian
// prints but the info_order text and the order/update times, which a
// re-generated file may reformat.
type lineKey struct {
	kind       recon.Kind
	noOrder    string
	oidPaybill string
	settleDate string
	amount     recon.Fen
	fee        recon.Fen
	status     int8
	direction  int8
}

func lineKeyOf(r *recon.Row) lineKey {
	return lineKey{r.Kind, r.NoOrder, r.OidPaybill, r.SettleDate, r.Amount, r.Fee, r.Status, r.Direction}
}

// printer computes fingerprints; it reuses a buffer, so each goroutine
// needs its own.
type printer struct {
	seed maphash.Seed
	buf  []byte
}

// of returns the fingerprint of r's lineKey. Strings are written with
// their lengths, so that no two keys write the same bytes.
func (p *printer) of(r *recon.Row) uint64 {
	k := lineKeyOf(r)
	b := p.buf[:0]
	b = append(b, byte(k.kind), byte(k.status), byte(k.direction))
	b = binary.LittleEndian.AppendUint64(b, uint64(k.amount))
	b = binary.LittleEndian.AppendUint64(b, uint64(k.fee))
	for _, s := range []string{k.noOrder, k.oidPaybill, k.settleDate} {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	p.buf = b
	return maphash.Bytes(p.seed, b)
}

// rowPrint is one row as the comparison keeps it.
type rowPrint struct {
	h    uint64
	line int
}

func comparePrints(a, b rowPrint) int {
	if c := cmp.Compare(a.h, b.h); c != 0 {
		return c
	}
	return cmp.Compare(a.line, b.line)
}

// DailyFile is one day's daily detail file, as MonthlyCompare.Day reads
// it: Rows streams its good rows (in any order; fn may not keep the row
// it is given), At returns its rows at the given lines, sorted (for the
// details of the few that differ). Only Kind, NoOrder, OidPaybill,
// SettleDate, Amount, Fee, Status, Direction and Line are read.
type DailyFile struct {
	Name string
	Rows func(fn func(r *recon.Row) error) error
	At   func(lines []int) ([]recon.Row, error)
}

// MonthlyCompare compares one monthly detail file (JYMX or FKMX) with
// that month's daily files of the same kind (SPEC §2.6). Hand it the
// monthly file's good rows in line order (Add; Restart when the reader
// starts the file again), then each day (Day, one call per day, days may
// run concurrently), then Finish.
type MonthlyCompare struct {
	month, file   string
	dailyOptional bool
	seed          maphash.Seed
	add           printer

	days map[string]*monthDay // by settle date; only read once Days has returned
}

// monthDay is one settle date of the comparison.
type monthDay struct {
	total   recon.DayTotal
	monthly []rowPrint // the monthly file's rows of the day, in line order
	// What Day decided.
	done          bool
	daily         string // the daily file's name, "" if none
	monthlyOnly   []int  // lines in the monthly file
	dailyOnly     []recon.Row
	read, matched int
}

// NewMonthlyCompare starts comparing the monthly file named file, of
// month "yyyymm". dailyOptional says a day without a daily file is an
// empty day (FKMX files are not published on a day without payouts, SPEC
// §2.1) rather than a missing file.
func NewMonthlyCompare(month, file string, dailyOptional bool) *MonthlyCompare {
	seed := maphash.MakeSeed()
	return &MonthlyCompare{month: month, file: file, dailyOptional: dailyOptional, seed: seed,
		add: printer{seed: seed}, days: map[string]*monthDay{}}
}

func (c *MonthlyCompare) day(date string) *monthDay {
	d := c.days[date]
	if d == nil {
		d = &monthDay{total: recon.DayTotal{Date: date}}
		c.days[date] = d
	}
	return d
}

// Add takes the monthly file's next good row.
func (c *MonthlyCompare) Add(r *recon.Row) {
	d := c.day(r.SettleDate)
	d.total.MonthlyCount++
	d.total.MonthlyAmount += r.Amount
	d.monthly = append(d.monthly, rowPrint{c.add.of(r), r.Line})
}

// Restart forgets the monthly rows added so far: the reader is reading
// the file again from its start.
func (c *MonthlyCompare) Restart() {
	clear(c.days)
}

// Days returns the days to compare: every settle date of the monthly
// file's rows and every day that has a daily file (withDaily), sorted.
func (c *MonthlyCompare) Days(withDaily []string) []string {
	for _, d := range withDaily {
		c.day(d)
	}
	days := make([]string, 0, len(c.days))
	for d := range c.days {
		days = append(days, d)
	}
	sort.Strings(days)
	return days
}

// Day compares the monthly file's rows of date with daily, that day's
// daily file, or nil when there is none. A row present twice in one side
// and once in the other is one finding: of the monthly rows the last ones
// are left over, of the daily rows the first ones. Days may be compared
// concurrently, each once; date must be one of Days.
func (c *MonthlyCompare) Day(date string, daily *DailyFile) error {
	d := c.days[date]
	if d == nil || d.done {
		return fmt.Errorf("monthly comparison: day %s not listed, or compared twice", date)
	}
	d.done = true
	d.total.DailyAvailable = daily != nil || c.dailyOptional
	if daily == nil {
		if d.total.DailyAvailable {
			for _, m := range d.monthly {
				d.monthlyOnly = append(d.monthlyOnly, m.line)
			}
		}
		d.monthly = nil
		return nil
	}
	d.daily = daily.Name
	p := printer{seed: c.seed}
	var prints []rowPrint
	err := daily.Rows(func(r *recon.Row) error {
		d.total.DailyCount++
		d.total.DailyAmount += r.Amount
		prints = append(prints, rowPrint{p.of(r), r.Line})
		return nil
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", daily.Name, err)
	}
	d.read = len(prints)

	// Both sides in (fingerprint, line) order; then each run of one
	// fingerprint pairs its first rows on either side.
	m := d.monthly
	slices.SortFunc(m, comparePrints)
	slices.SortFunc(prints, comparePrints)
	var dailyOnly []int
	i, j := 0, 0
	for i < len(m) || j < len(prints) {
		var h uint64
		switch {
		case i == len(m):
			h = prints[j].h
		case j == len(prints):
			h = m[i].h
		default:
			h = min(m[i].h, prints[j].h)
		}
		mi, dj := i, j
		for mi < len(m) && m[mi].h == h {
			mi++
		}
		for dj < len(prints) && prints[dj].h == h {
			dj++
		}
		nm, nd := mi-i, dj-j
		d.matched += min(nm, nd)
		for k := i + nd; k < mi; k++ {
			d.monthlyOnly = append(d.monthlyOnly, m[k].line)
		}
		for k := j; k < j+nd-nm; k++ {
			dailyOnly = append(dailyOnly, prints[k].line)
		}
		i, j = mi, dj
	}
	d.monthly = nil
	if len(dailyOnly) > 0 {
		slices.Sort(dailyOnly)
		rows, err := daily.At(dailyOnly)
		if err != nil {
			return fmt.Errorf("read %s: %w", daily.Name, err)
		}
		if len(rows) != len(dailyOnly) {
			return fmt.Errorf("read %s: %d of %d rows found again", daily.Name, len(rows), len(dailyOnly))
		}
		d.dailyOnly = rows
	}
	return nil
}

// Finish returns what the comparison decided, once every day of Days is
// compared. malformed are the monthly file's malformed lines; monthlyAt
// returns the monthly file's good rows at the given lines, sorted, and is
// called only when some are only in the monthly file.
func (c *MonthlyCompare) Finish(malformed []recon.Malformed, monthlyAt func(lines []int) ([]recon.Row, error)) (MonthlyOutcome, error) {
	var out MonthlyOutcome
	finding := func(no, paybill string, amount recon.Fen, file string, line int, detail string) {
		out.Findings = append(out.Findings, recon.Finding{
			SettleDate: c.month, Kind: recon.MonthlyDailyMismatch, NoOrder: no, OidPaybill: paybill,
			StatementAmount: amount, HasStatementAmount: true, File: file, Line: line, Detail: detail,
		})
	}
	for _, mal := range malformed {
		out.Statement.Read++
		out.Statement.Findings++
		out.Findings = append(out.Findings, recon.Finding{SettleDate: c.month, Kind: recon.MalformedRow,
			NoOrder: mal.NoOrder, File: mal.File, Line: mal.Line, Detail: malformedDetail(mal)})
	}

	days := make([]string, 0, len(c.days))
	for date := range c.days {
		days = append(days, date)
	}
	sort.Strings(days)
	var lines []int              // monthly-only lines, all days
	where := map[int]*monthDay{} // their day
	for _, date := range days {
		d := c.days[date]
		if !d.done {
			return out, fmt.Errorf("monthly comparison: day %s not compared", date)
		}
		t := d.total
		out.DayTotals = append(out.DayTotals, t)
		out.Statement.Read += int(t.MonthlyCount) + d.read
		if !t.DailyAvailable {
			out.Statement.Findings += int(t.MonthlyCount)
			finding(date, "", t.MonthlyAmount, c.file, 0,
				fmt.Sprintf("no daily file for %s: the monthly file has %d rows totalling %s", date, t.MonthlyCount, t.MonthlyAmount))
			continue
		}
		out.Statement.Matched += 2 * d.matched
		out.Statement.Findings += len(d.monthlyOnly) + len(d.dailyOnly)
		for _, l := range d.monthlyOnly {
			lines = append(lines, l)
			where[l] = d
		}
		for _, r := range d.dailyOnly {
			finding(r.NoOrder, r.OidPaybill, r.Amount, d.daily, r.Line,
				fmt.Sprintf("in %s, not in the monthly file %s", d.daily, c.file))
		}
	}
	if len(lines) > 0 {
		slices.Sort(lines)
		rows, err := monthlyAt(lines)
		if err != nil {
			return out, fmt.Errorf("read %s: %w", c.file, err)
		}
		if len(rows) != len(lines) {
			return out, fmt.Errorf("read %s: %d of %d rows found again", c.file, len(rows), len(lines))
		}
		for _, r := range rows {
			d := where[r.Line]
			if d == nil {
				return out, fmt.Errorf("read %s: line %d was not asked for", c.file, r.Line)
			}
			in := "no daily file (none published that day)"
			if d.daily != "" {
				in = d.daily
			}
			finding(r.NoOrder, r.OidPaybill, r.Amount, c.file, r.Line, "in the monthly file, not in "+in)
		}
	}
	recon.SortFindings(out.Findings)
	return out, nil
}

// MonthlyOutcome is what a monthly comparison decided.
type MonthlyOutcome struct {
	Findings  []recon.Finding
	DayTotals []recon.DayTotal
	// Statement counts the rows of the monthly file and of the daily files
	// it was compared with: each is matched by a row of the other side, or
	// a finding (a missing daily file's day: one finding, its rows counted
	// as findings).
	Statement recon.Tally
}
