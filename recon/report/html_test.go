package report

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

func writeHTML(t *testing.T, res *recon.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, res); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var (
	reHidden = regexp.MustCompile(`(?s)<(style|script)\b.*?</(style|script)>`)
	reBreak  = regexp.MustCompile(`(?i)<br>|</(tr|p|h1|h2|li|dt|dd|option|label|thead|tbody|tfoot|table|section|header|footer)>`)
	reTag    = regexp.MustCompile(`<[^>]*>`)
	reSpace  = regexp.MustCompile(`[ \t]+`)
)

// pageText is what a reader sees of the page: tags gone, entities decoded,
// one line per row or paragraph.
func pageText(b []byte) string {
	s := reHidden.ReplaceAllString(string(b), "")
	s = reBreak.ReplaceAllString(s, "\n")
	s = reTag.ReplaceAllString(s, " ")
	s = html.UnescapeString(s)
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(reSpace.ReplaceAllString(l, " ")); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

func TestWriteHTMLTextGolden(t *testing.T) {
	golden(t, "report.golden.txt", []byte(pageText(writeHTML(t, fixture()))))
	golden(t, "report_monthly.golden.txt", []byte(pageText(writeHTML(t, monthlyFixture()))))
}

func TestWriteHTMLEscapes(t *testing.T) {
	page := string(writeHTML(t, fixture()))
	for _, raw := range []string{hostileScript, hostileImg, "<img", "<script>window"} {
		if strings.Contains(page, raw) {
			t.Errorf("page holds %q unescaped", raw)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;window.__pwned=1&lt;/script&gt;") {
		t.Error("the hostile detail is not shown as escaped text")
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d script elements, want only the page's own", n)
	}
}

func TestWriteHTMLSelfContained(t *testing.T) {
	page := string(writeHTML(t, fixture()))
	for _, bad := range []string{"http://", "https://", "src=", "<link", "@import", "url("} {
		// The hostile detail holds http:// and src= escaped; look only
		// outside the findings table.
		outside := page[:strings.Index(page, `<table id="findings">`)] + page[strings.Index(page, `id="pending"`):]
		if strings.Contains(outside, bad) {
			t.Errorf("page refers to something outside itself: %q", bad)
		}
	}
	for _, want := range []string{
		"@page { size: A4 landscape", "thead { display: table-header-group; }",
		`"Microsoft YaHei"`, `"PingFang SC"`, `"Noto Sans CJK SC"`, `"WenQuanYi Micro Hei"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestWriteHTMLPolicy(t *testing.T) {
	// Only the page's own script may run: its hash is in the policy, and
	// the hash is of the bytes the page holds.
	page := string(writeHTML(t, fixture()))
	m := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no Content-Security-Policy")
	}
	csp := html.UnescapeString(m[1])
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src "+scriptHash) {
		t.Errorf("policy = %q", csp)
	}
	if !strings.Contains(page, "<script>"+pageJS+"</script>") {
		t.Error("the inline script is not the hashed bytes")
	}
}

func TestWriteHTMLTable(t *testing.T) {
	page := string(writeHTML(t, fixture()))
	rows := regexp.MustCompile(`<tr data-kind="([a-z_]+)">`).FindAllStringSubmatch(page, -1)
	if len(rows) != len(fixture().Findings) {
		t.Fatalf("%d finding rows, want %d", len(rows), len(fixture().Findings))
	}
	// The sort key of an amount is its fen integer, not the yuan text.
	for _, want := range []string{`data-sort="200000">2000.00<`, `data-sort="-150">-1.50<`, `data-sort="50">0.50<`, `data-sort="">`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Controls are hidden until the script shows them.
	if !strings.Contains(page, `<div id="controls" class="controls" hidden>`) {
		t.Error("filter controls are not hidden without JavaScript")
	}
}

func TestWriteHTMLVerdict(t *testing.T) {
	tests := []struct {
		name string
		res  *recon.Result
		want string
	}{
		{"findings", fixture(), "✗ 10 笔差异 / 10 findings, 涉及金额 / amount involved ¥2391.28"},
		{"balanced", monthlyFixture(), "✓ 平账 / Balanced — 无差异 / no findings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if text := pageText(writeHTML(t, tt.res)); !strings.Contains(text, tt.want) {
				t.Errorf("verdict %q not in page:\n%s", tt.want, text)
			}
		})
	}
}

func TestWriteHTMLRowLimit(t *testing.T) {
	defer func(n int) { htmlRowLimit = n }(htmlRowLimit)
	tests := []struct {
		limit, rows int
		note        string
	}{
		{10, 10, ""},
		{4, 4, "Showing the first 4 findings; 6 more are in discrepancies.csv."},
	}
	for _, tt := range tests {
		htmlRowLimit = tt.limit
		page := string(writeHTML(t, fixture()))
		if n := strings.Count(page, "<tr data-kind="); n != tt.rows {
			t.Errorf("limit %d: %d rows, want %d", tt.limit, n, tt.rows)
		}
		if tt.note != "" && !strings.Contains(pageText([]byte(page)), tt.note) {
			t.Errorf("limit %d: page does not say %q", tt.limit, tt.note)
		}
		if tt.note == "" && strings.Contains(page, `id="omitted"`) {
			t.Errorf("limit %d: page says rows were left out", tt.limit)
		}
		// The verdict still counts every finding.
		if !strings.Contains(page, "10 findings") {
			t.Errorf("limit %d: verdict does not count all findings", tt.limit)
		}
	}
}
