package report

import (
	"encoding/json"
	"io"

	"github.com/lianlian-recon/reconcile/recon"
)

// The summary.json document (SPEC §6). Structs, not maps, so the key order is
// fixed; the only maps (ignored reasons, per-kind counts) are encoded by
// encoding/json with their keys sorted. Money is never a float: every amount
// is given twice, as integer fen ("amount_fen": 150) and as a yuan string
// with two decimals ("amount": "1.50").
type jsonSummary struct {
	Merchant string `json:"merchant"`
	Period   string `json:"period"`
	Monthly  bool   `json:"monthly"`
	RanAt    string `json:"ran_at"`

	// Balanced is true when the run has no finding. FindingsAmount is the
	// sum over findings of the amount involved: |difference| when both
	// amounts are present, else the absolute value of the one present.
	Balanced          bool   `json:"balanced"`
	FindingCount      int    `json:"finding_count"`
	FindingsAmountFen int64  `json:"findings_amount_fen"`
	FindingsAmount    string `json:"findings_amount"`

	Files         []jsonFile               `json:"files"`
	ControlTotals []jsonTotal              `json:"control_totals"`
	Statement     jsonTally                `json:"statement"`
	Ledger        jsonTally                `json:"ledger"`
	FindingsBy    map[string]jsonKindCount `json:"findings_by_kind"`
	Pending       []jsonPending            `json:"pending"`
	MissingDays   []string                 `json:"missing_days"`
	DayTotals     []jsonDayTotal           `json:"day_totals"`
}

type jsonFile struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Size       int64  `json:"size"`
	SHA256     string `json:"sha256"`
	Encoding   string `json:"encoding"`
	Rows       int    `json:"rows"`
	Malformed  int    `json:"malformed"`
	Changed    bool   `json:"changed"`
	PrevSHA256 string `json:"prev_sha256,omitempty"`
}

// jsonTotal is one control-total figure. Summary, Computed and Difference
// are integers in Unit ("fen" or "count"); amount figures also carry the
// yuan strings.
type jsonTotal struct {
	File           string `json:"file"`
	Figure         string `json:"figure"`
	Unit           string `json:"unit"`
	Summary        int64  `json:"summary"`
	Computed       int64  `json:"computed"`
	Difference     int64  `json:"difference"`
	SummaryYuan    string `json:"summary_yuan,omitempty"`
	ComputedYuan   string `json:"computed_yuan,omitempty"`
	DifferenceYuan string `json:"difference_yuan,omitempty"`
	OK             bool   `json:"ok"`
}

type jsonTally struct {
	Read           int            `json:"read"`
	Matched        int            `json:"matched"`
	Findings       int            `json:"findings"`
	Pending        int            `json:"pending"`
	Ignored        int            `json:"ignored"`
	IgnoredReasons map[string]int `json:"ignored_reasons"`
	Balanced       bool           `json:"balanced"`
}

// jsonKindCount is one finding kind: how many, the sum of the statement
// amounts present, and the sum of the amounts involved (see jsonSummary).
type jsonKindCount struct {
	Count              int    `json:"count"`
	StatementAmountFen int64  `json:"statement_amount_fen"`
	StatementAmount    string `json:"statement_amount"`
	InvolvedAmountFen  int64  `json:"involved_amount_fen"`
	InvolvedAmount     string `json:"involved_amount"`
}

type jsonPending struct {
	Kind        string `json:"kind"`
	NoOrder     string `json:"no_order"`
	OidPartner  string `json:"oid_partner,omitempty"`
	DtOrder     string `json:"dt_order"`
	AmountFen   int64  `json:"amount_fen"`
	Amount      string `json:"amount"`
	Status      string `json:"status"`
	OidPaybill  string `json:"oid_paybill,omitempty"`
	OrigNoOrder string `json:"orig_no_order,omitempty"`
	DecideOn    string `json:"decide_on"`
	Reason      string `json:"reason"`
}

type jsonDayTotal struct {
	Date             string `json:"date"`
	MonthlyCount     int64  `json:"monthly_count"`
	MonthlyAmountFen int64  `json:"monthly_amount_fen"`
	MonthlyAmount    string `json:"monthly_amount"`
	DailyAvailable   bool   `json:"daily_available"`
	DailyCount       int64  `json:"daily_count"`
	DailyAmountFen   int64  `json:"daily_amount_fen"`
	DailyAmount      string `json:"daily_amount"`
	OK               bool   `json:"ok"`
}

// WriteJSON writes summary.json: the run's figures for machines (SPEC §6),
// indented, with every finding kind of recon.FindingKinds present (0 when
// none) and empty lists written as [] rather than null.
func WriteJSON(w io.Writer, res *recon.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(buildJSON(res))
}

func buildJSON(res *recon.Result) *jsonSummary {
	s := &jsonSummary{
		Merchant:      res.Merchant,
		Period:        res.Period,
		Monthly:       res.Monthly,
		RanAt:         res.RanAt,
		Balanced:      len(res.Findings) == 0,
		FindingCount:  len(res.Findings),
		Files:         make([]jsonFile, 0, len(res.Files)),
		ControlTotals: make([]jsonTotal, 0, len(res.Totals)),
		Statement:     tallyJSON(res.Statement),
		Ledger:        tallyJSON(res.Ledger),
		FindingsBy:    make(map[string]jsonKindCount),
		Pending:       make([]jsonPending, 0, len(res.Pending)),
		MissingDays:   append([]string{}, res.MissingDays...),
		DayTotals:     make([]jsonDayTotal, 0, len(res.DayTotals)),
	}
	var sum recon.Fen
	for _, k := range kindTotals(res.Findings) {
		sum += k.Involved
		s.FindingsBy[string(k.Kind)] = jsonKindCount{
			Count:              k.Count,
			StatementAmountFen: int64(k.Statement),
			StatementAmount:    k.Statement.String(),
			InvolvedAmountFen:  int64(k.Involved),
			InvolvedAmount:     k.Involved.String(),
		}
	}
	s.FindingsAmountFen, s.FindingsAmount = int64(sum), sum.String()
	for _, f := range res.Files {
		s.Files = append(s.Files, jsonFile{
			Name: f.Name, Kind: string(f.Kind), Size: f.Size, SHA256: f.SHA256,
			Encoding: f.Encoding, Rows: f.Rows, Malformed: f.Malformed,
			Changed: f.Changed, PrevSHA256: f.PrevSHA256,
		})
	}
	for _, t := range res.Totals {
		jt := jsonTotal{
			File: t.File, Figure: t.Figure, Unit: "count",
			Summary: t.Summary, Computed: t.Computed, Difference: t.Summary - t.Computed,
			OK: t.OK(),
		}
		if t.Amount {
			jt.Unit = "fen"
			jt.SummaryYuan = recon.Fen(t.Summary).String()
			jt.ComputedYuan = recon.Fen(t.Computed).String()
			jt.DifferenceYuan = recon.Fen(jt.Difference).String()
		}
		s.ControlTotals = append(s.ControlTotals, jt)
	}
	for _, p := range res.Pending {
		e := p.Entry
		s.Pending = append(s.Pending, jsonPending{
			Kind: e.Kind.String(), NoOrder: e.NoOrder, OidPartner: e.OidPartner,
			DtOrder: e.DtOrder, AmountFen: int64(e.Amount), Amount: e.Amount.String(),
			Status: e.Status.String(), OidPaybill: e.OidPaybill, OrigNoOrder: e.OrigNoOrder,
			DecideOn: p.DecideOn, Reason: p.Reason,
		})
	}
	for _, d := range res.DayTotals {
		s.DayTotals = append(s.DayTotals, jsonDayTotal{
			Date:         d.Date,
			MonthlyCount: d.MonthlyCount, MonthlyAmountFen: int64(d.MonthlyAmount), MonthlyAmount: d.MonthlyAmount.String(),
			DailyAvailable: d.DailyAvailable,
			DailyCount:     d.DailyCount, DailyAmountFen: int64(d.DailyAmount), DailyAmount: d.DailyAmount.String(),
			OK: dayOK(d),
		})
	}
	return s
}

// dayOK reports that a day of a monthly file agrees with its daily file; a
// day whose daily file is not available does not agree.
func dayOK(d recon.DayTotal) bool {
	return d.DailyAvailable && d.MonthlyCount == d.DailyCount && d.MonthlyAmount == d.DailyAmount
}

func tallyJSON(t recon.Tally) jsonTally {
	reasons := make(map[string]int, len(t.IgnoredReasons))
	for r, n := range t.IgnoredReasons {
		reasons[r] = n
	}
	return jsonTally{
		Read: t.Read, Matched: t.Matched, Findings: t.Findings,
		Pending: t.Pending, Ignored: t.Ignored, IgnoredReasons: reasons,
		Balanced: t.Balanced(),
	}
}
