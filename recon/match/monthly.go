package match

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"slices"
	"sort"
	"sync"

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

// DailyFile is one day's daily detail file, as MonthlyCompare.ReadDaily
// reads it: Rows streams its good rows (in any order; fn may not keep the
// row it is given), At returns its rows at the given lines, sorted (for the
// details of the few that differ). Only Kind, NoOrder, OidPaybill,
// SettleDate, Amount, Fee, Status, Direction and Line are read.
type DailyFile struct {
	Name string
	Size int // the number of rows Rows will give, if known: room is made for them
	Rows func(fn func(r *recon.Row) error) error
	At   func(lines []int) ([]recon.Row, error)
}

// MonthlyCompare compares one monthly detail file (JYMX or FKMX) with
// that month's daily files of the same kind (SPEC §2.6). The two sides are
// read independently, so that they can be read at the same time: the
// monthly file's good rows in line order through Add (Restart when the
// reader starts the file again), and each daily file through ReadDaily,
// concurrently with Add and with each other. Then each day of Days is
// compared (Day, concurrently), and Finish gives the outcome.
type MonthlyCompare struct {
	month, file   string
	dailyOptional bool
	seed          maphash.Seed
	add           printer

	days map[string]*monthDay // by settle date; only read once Days has returned

	mu    sync.Mutex
	daily map[string]*dailyDay // by day, as ReadDaily read them
}

// monthDay is one settle date of the comparison.
type monthDay struct {
	total   recon.DayTotal
	monthly []rowPrint // the monthly file's rows of the day, in line order
	// What Day decided.
	done          bool
	daily         string     // the daily file's name, "" if none
	monthlyOnly   []rowPrint // rows only in the monthly file
	dailyOnly     []recon.Row
	read, matched int
}

// dailyDay is one daily file as ReadDaily read it.
type dailyDay struct {
	file   *DailyFile
	prints []rowPrint // sorted
	count  int64
	amount recon.Fen
}

// NewMonthlyCompare starts comparing the monthly file named file, of
// month "yyyymm". dailyOptional says a day without a daily file is an
// empty day (FKMX files are not published on a day without payouts, SPEC
// §2.1) rather than a missing file.
func NewMonthlyCompare(month, file string, dailyOptional bool) *MonthlyCompare {
	seed := maphash.MakeSeed()
	return &MonthlyCompare{month: month, file: file, dailyOptional: dailyOptional, seed: seed,
		add: printer{seed: seed}, days: map[string]*monthDay{}, daily: map[string]*dailyDay{}}
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

// Reserve makes room for rows monthly rows of date (the daily file's
// count is a good guess): a month of rows held in slices that grow by
// doubling would hold up to twice their size.
func (c *MonthlyCompare) Reserve(date string, rows int) {
	d := c.day(date)
	d.monthly = slices.Grow(d.monthly, rows)
}

// Restart forgets the monthly rows added so far: the reader is reading
// the file again from its start.
func (c *MonthlyCompare) Restart() {
	clear(c.days)
}

// ReadDaily reads the daily file of date (yyyymmdd), keeping a fingerprint
// of each row, 16 bytes. It may run at any time before Day, beside Add and
// for other days.
func (c *MonthlyCompare) ReadDaily(date string, daily *DailyFile) error {
	p := printer{seed: c.seed}
	dd := &dailyDay{file: daily, prints: make([]rowPrint, 0, daily.Size)}
	err := daily.Rows(func(r *recon.Row) error {
		dd.count++
		dd.amount += r.Amount
		dd.prints = append(dd.prints, rowPrint{p.of(r), r.Line})
		return nil
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", daily.Name, err)
	}
	sortPrints(dd.prints)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.daily[date] != nil {
		return fmt.Errorf("monthly comparison: daily file of %s read twice", date)
	}
	c.daily[date] = dd
	return nil
}

// Days returns the days to compare, once every monthly row is added and
// every daily file read: every settle date of the monthly file's rows and
// every day with a daily file, sorted.
func (c *MonthlyCompare) Days() []string {
	for d := range c.daily {
		c.day(d)
	}
	days := make([]string, 0, len(c.days))
	for d := range c.days {
		days = append(days, d)
	}
	sort.Strings(days)
	return days
}

// Day compares the monthly file's rows of date with that day's daily
// file, as ReadDaily read it, or none. A row present twice in one side
// and once in the other is one finding: of the monthly rows the last ones
// are left over, of the daily rows the first ones. Days may be compared
// concurrently, each once; date must be one of Days.
func (c *MonthlyCompare) Day(date string) error {
	d := c.days[date]
	if d == nil || d.done {
		return fmt.Errorf("monthly comparison: day %s not listed, or compared twice", date)
	}
	d.done = true
	dd := c.daily[date]
	d.total.DailyAvailable = dd != nil || c.dailyOptional
	m := d.monthly
	d.monthly = nil
	if dd == nil {
		if d.total.DailyAvailable {
			d.monthlyOnly = m
		}
		return nil
	}
	d.daily = dd.file.Name
	d.total.DailyCount, d.total.DailyAmount = dd.count, dd.amount
	prints := dd.prints
	dd.prints = nil
	d.read = len(prints)

	// Both sides in (fingerprint, line) order; then each run of one
	// fingerprint pairs its first rows on either side.
	sortPrints(m)
	var dailyOnly []rowPrint
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
		d.monthlyOnly = append(d.monthlyOnly, m[i+min(nm, nd):mi]...)
		dailyOnly = append(dailyOnly, prints[j:j+max(nd-nm, 0)]...)
		i, j = mi, dj
	}
	if len(dailyOnly) > 0 {
		rows, err := c.again(dailyOnly, dd.file.Name, dd.file.At)
		if err != nil {
			return err
		}
		d.dailyOnly = rows
	}
	return nil
}

// again reads the rows of prints again, through at, and checks that each
// is the row that was fingerprinted: a file that changed in between is an
// error, not a wrong finding.
func (c *MonthlyCompare) again(prints []rowPrint, file string, at func([]int) ([]recon.Row, error)) ([]recon.Row, error) {
	slices.SortFunc(prints, func(a, b rowPrint) int { return cmp.Compare(a.line, b.line) })
	lines := make([]int, len(prints))
	for i, p := range prints {
		lines[i] = p.line
	}
	rows, err := at(lines)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if len(rows) != len(lines) {
		return nil, fmt.Errorf("read %s again: %d of %d rows found", file, len(rows), len(lines))
	}
	p := printer{seed: c.seed}
	for i := range rows {
		if rows[i].Line != lines[i] || p.of(&rows[i]) != prints[i].h {
			return nil, fmt.Errorf("read %s again: line %d is not the row first read; the file changed", file, lines[i])
		}
	}
	return rows, nil
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
	var monthlyOnly []rowPrint   // all days
	where := map[int]*monthDay{} // their day, by line
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
		for _, p := range d.monthlyOnly {
			monthlyOnly = append(monthlyOnly, p)
			where[p.line] = d
		}
		for _, r := range d.dailyOnly {
			finding(r.NoOrder, r.OidPaybill, r.Amount, d.daily, r.Line,
				fmt.Sprintf("in %s, not in the monthly file %s", d.daily, c.file))
		}
	}
	if len(monthlyOnly) > 0 {
		rows, err := c.again(monthlyOnly, c.file, monthlyAt)
		if err != nil {
			return out, err
		}
		for _, r := range rows {
			in := "no daily file (none published that day)"
			if d := where[r.Line]; d.daily != "" {
				in = d.daily
			}
			finding(r.NoOrder, r.OidPaybill, r.Amount, c.file, r.Line, "in the monthly file, not in "+in)
		}
	}
	recon.SortFindings(out.Findings)
	return out, nil
}

// sortPrints sorts p by fingerprint, then line: a radix sort of the
// fingerprints, four passes of 16 bits (about five times quicker than a
// comparison sort of a million), then each run of one fingerprint by line.
func sortPrints(p []rowPrint) {
	if len(p) < 256 {
		slices.SortFunc(p, comparePrints)
		return
	}
	tmp := make([]rowPrint, len(p))
	src, dst := p, tmp
	var count [1 << 16]int
	for shift := uint(0); shift < 64; shift += 16 {
		clear(count[:])
		for _, x := range src {
			count[x.h>>shift&0xffff]++
		}
		sum := 0
		for i, n := range count {
			count[i] = sum
			sum += n
		}
		for _, x := range src {
			k := x.h >> shift & 0xffff
			dst[count[k]] = x
			count[k]++
		}
		src, dst = dst, src
	}
	// Four passes: the result is back in p.
	for i := 0; i < len(p); {
		j := i + 1
		for j < len(p) && p[j].h == p[i].h {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(p[i:j], comparePrints)
		}
		i = j
	}
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
