package recon

// Result is everything one run decided, as the report shows it (SPEC §6).
// The store keeps it; recon/report renders it without reading any statement
// file again. Every slice is in a fixed order so that the same inputs give
// the same bytes.
type Result struct {
	Merchant string
	Period   string // "yyyymmdd" for a daily run, "yyyymm" for a monthly one
	Monthly  bool
	RanAt    string // RFC 3339, Asia/Shanghai: when these inputs were first reconciled

	Files       []InputFile
	Totals      []TotalCheck // control totals, one per summary figure per summary file
	Findings    []Finding    // sorted by kind, then no_order, then file, line
	Pending     []Pending    // sorted by decide date, then no_order
	MissingDays []string     // statement days inside history that neither store nor source had

	Statement Tally // statement rows of this run's files
	Ledger    Tally // ledger entries this run decided or holds open

	DayTotals []DayTotal // monthly runs: per-day totals, monthly file vs daily files
}

// InputFile is one statement file the run read.
type InputFile struct {
	Name       string
	Kind       FileKind
	Size       int64
	SHA256     string
	Encoding   string
	Rows       int    // detail rows parsed (malformed lines not included)
	Malformed  int    //
	Changed    bool   // the bytes differ from an earlier fetch of the same name
	PrevSHA256 string // the earlier bytes' SHA-256 when Changed
}

// TotalCheck is one control-total figure: the summary file's value beside
// the computed one (SPEC §2.5). Amount figures are fen, counts are counts.
type TotalCheck struct {
	File     string // the summary file
	Figure   string // one of SummaryFigures
	Amount   bool   // the values are fen
	Summary  int64
	Computed int64
}

// OK reports agreement.
func (t TotalCheck) OK() bool { return t.Summary == t.Computed }

// Pending is a ledger entry whose window is still open (SPEC §4).
type Pending struct {
	Entry    Entry
	DecideOn string // "yyyymmdd": the run that decides it
	Reason   string // "window open", or "statement of 20240101 missing"
}

// Tally is the accounting identity of SPEC §8: Read = Matched + Findings +
// Pending + Ignored.
type Tally struct {
	Read     int
	Matched  int
	Findings int // items that are the subject of at least one finding
	Pending  int
	Ignored  int
	// IgnoredReasons counts ignored items by reason ("busi_partner 108001",
	// "before history", "title row", …).
	IgnoredReasons map[string]int
}

// Ignore counts one ignored item under its reason.
func (t *Tally) Ignore(reason string) {
	t.Ignored++
	if t.IgnoredReasons == nil {
		t.IgnoredReasons = map[string]int{}
	}
	t.IgnoredReasons[reason]++
}

// Balanced reports that the identity holds.
func (t Tally) Balanced() bool {
	return t.Read == t.Matched+t.Findings+t.Pending+t.Ignored
}

// DayTotal compares one day of a monthly file with that day's daily file.
type DayTotal struct {
	Date           string
	MonthlyCount   int64
	MonthlyAmount  Fen
	DailyCount     int64
	DailyAmount    Fen
	DailyAvailable bool
}
