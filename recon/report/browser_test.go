package report

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/lianlian-recon/reconcile/recon"
)

var screenshotCopy = flag.String("screenshot", "", "also save the report screenshot to this PNG path")

// chromiumPath finds Debian's chromium. Without it the browser tests skip
// locally, but fail in CI (CI set), where .ci/run installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found and CI is set: install it (apt-get install -y chromium fonts-wqy-microhei)")
	}
	t.Skip("chromium not found: install it (apt-get install -y chromium fonts-wqy-microhei) to run the browser tests")
	return ""
}

// browser starts a headless Chromium with the flags of TESTING.md and a fresh
// profile; the returned context is its first tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil { // start the browser now
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// eval runs a script in the tab and fails the test on error.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// Scripts that read the findings table as a reader sees it.
const (
	jsVisibleKinds = `Array.from(document.querySelectorAll("#findings tbody tr")).filter(r => r.getClientRects().length > 0).map(r => r.dataset.kind)`
	jsRowCount     = `document.querySelectorAll("#findings tbody tr").length`
	jsColumnSort   = `Array.from(document.querySelectorAll("#findings tbody tr")).map(r => r.cells[4].dataset.sort)`
	jsVisibleOrder = `Array.from(document.querySelectorAll("#findings tbody tr")).filter(r => r.getClientRects().length > 0).map(r => r.cells[2].textContent)`
)

func setKind(kind string) chromedp.Action[chromedp.Void] {
	// As a user's choice does: set the value, then fire "change".
	return chromedp.Evaluate[chromedp.Void](`(s => { s.value = ` + strconv.Quote(kind) + `; s.dispatchEvent(new Event("change")) })(document.getElementById("kind-filter"))`)
}

// fenKeys reads data-sort values: integers of fen, nil for an empty cell.
func fenKeys(t *testing.T, keys []string) []*int64 {
	t.Helper()
	out := make([]*int64, len(keys))
	for i, k := range keys {
		if k == "" {
			continue
		}
		v, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			t.Fatalf("data-sort %q is not an integer of fen", k)
		}
		out[i] = &v
	}
	return out
}

// checkSorted checks ascending (or descending) order with empty cells last.
func checkSorted(t *testing.T, keys []*int64, asc bool) {
	t.Helper()
	seenEmpty := false
	for i, k := range keys {
		if k == nil {
			seenEmpty = true
			continue
		}
		if seenEmpty {
			t.Errorf("row %d has an amount after an empty cell", i)
		}
		if i > 0 && keys[i-1] != nil {
			if prev := *keys[i-1]; (asc && prev > *k) || (!asc && prev < *k) {
				t.Errorf("rows %d,%d out of order (asc=%v): %d then %d", i-1, i, asc, prev, *k)
			}
		}
	}
}

func TestReportInBrowser(t *testing.T) {
	ctx := browser(t)
	res := fixture()
	dir := t.TempDir()
	if err := WriteAll(dir, res); err != nil {
		t.Fatal(err)
	}
	csvBytes, err := os.ReadFile(filepath.Join(dir, CSVName))
	if err != nil {
		t.Fatal(err)
	}
	csvRows := len(readCSV(t, csvBytes)) - 1
	url := "file://" + filepath.Join(dir, HTMLName)

	do(t, ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("controls")))

	t.Run("rows match the CSV", func(t *testing.T) {
		if n := eval[int](t, ctx, jsRowCount); n != csvRows || n == 0 {
			t.Errorf("table has %d rows, discrepancies.csv %d", n, csvRows)
		}
		if n := len(eval[[]string](t, ctx, jsVisibleKinds)); n != csvRows {
			t.Errorf("%d rows visible, want all %d", n, csvRows)
		}
	})

	t.Run("hostile text is text", func(t *testing.T) {
		if typ := eval[string](t, ctx, `typeof window.__pwned`); typ != "undefined" {
			t.Errorf("window.__pwned is %s: injected script ran", typ)
		}
		text := eval[string](t, ctx, `document.body.innerText`)
		for _, s := range []string{hostileScript, hostileImg} {
			if !strings.Contains(text, s) {
				t.Errorf("page text lacks %q shown as text", s)
			}
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("img, tbody script").length`); n != 0 {
			t.Errorf("%d img/script elements made from file data", n)
		}
	})

	t.Run("Chinese names from the data", func(t *testing.T) {
		text := eval[string](t, ctx, `document.body.innerText`)
		for _, s := range []string{"手机应用支付网关", "储蓄卡快捷支付", "商户账无此笔", "差异明细"} {
			if !strings.Contains(text, s) {
				t.Errorf("page text lacks %q", s)
			}
		}
	})

	t.Run("filter by kind", func(t *testing.T) {
		want := map[string]int{}
		for _, f := range res.Findings {
			want[string(f.Kind)]++
		}
		for _, kind := range []recon.FindingKind{recon.MissingInLedger, recon.SummaryMismatch, recon.UnpairedRefund} {
			do(t, ctx, setKind(string(kind)))
			got := eval[[]string](t, ctx, jsVisibleKinds)
			if len(got) != want[string(kind)] {
				t.Errorf("filter %s: %d rows visible, want %d", kind, len(got), want[string(kind)])
			}
			for _, k := range got {
				if k != string(kind) {
					t.Errorf("filter %s: a %s row is visible", kind, k)
				}
			}
		}
		do(t, ctx, setKind(""))
		if n := len(eval[[]string](t, ctx, jsVisibleKinds)); n != csvRows {
			t.Errorf("filter cleared: %d rows visible, want %d", n, csvRows)
		}
	})

	t.Run("search by order number", func(t *testing.T) {
		do(t, ctx, chromedp.SendKeys(chromedp.ID("order-search"), "2024052800001"))
		got := eval[[]string](t, ctx, jsVisibleOrder)
		if len(got) != 2 || got[0] != "2024052800001" || got[1] != "2024052800001" {
			t.Errorf("search shows %q, want the two rows of 2024052800001", got)
		}
		// chromedp.SetValue refuses "", so clear the box from a script.
		do(t, ctx, chromedp.Evaluate[chromedp.Void](`(s => { s.value = ""; s.dispatchEvent(new Event("input")) })(document.getElementById("order-search"))`))
		if n := len(eval[[]string](t, ctx, jsVisibleKinds)); n != csvRows {
			t.Errorf("search cleared: %d rows visible, want %d", n, csvRows)
		}
	})

	t.Run("sort by statement amount", func(t *testing.T) {
		before := eval[[]string](t, ctx, jsColumnSort)
		th := chromedp.CSS(`#findings th[data-col="statement_amount"]`)
		for _, asc := range []bool{true, false} {
			do(t, ctx, chromedp.Click(th))
			keys := eval[[]string](t, ctx, jsColumnSort)
			if !slices.Equal(slices.Sorted(slices.Values(keys)), slices.Sorted(slices.Values(before))) {
				t.Fatalf("sorting changed the rows: %q → %q", before, keys)
			}
			fen := fenKeys(t, keys)
			checkSorted(t, fen, asc)
			if *fen[0] != map[bool]int64{true: -150, false: 200000}[asc] {
				t.Errorf("asc=%v: first amount %d", asc, *fen[0])
			}
		}
	})

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "report.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
	if *screenshotCopy != "" {
		if err := os.WriteFile(*screenshotCopy, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("without JavaScript", func(t *testing.T) {
		nctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
		defer cancel()
		do(t, nctx,
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
				return err
			}),
			chromedp.Navigate(url),
		)
		// The evaluation below comes from the test, which DevTools allows;
		// the page's own script must not have run.
		if shown := eval[bool](t, nctx, `!document.getElementById("controls").hidden`); shown {
			t.Fatal("the page's script ran: JavaScript is not disabled")
		}
		if n := len(eval[[]string](t, nctx, jsVisibleKinds)); n != csvRows {
			t.Errorf("without JavaScript %d rows visible, want %d", n, csvRows)
		}
		if vis := eval[int](t, nctx, `document.getElementById("controls").getClientRects().length`); vis != 0 {
			t.Error("controls that need JavaScript are visible without it")
		}
		text := eval[string](t, nctx, `document.body.innerText`)
		for _, s := range []string{"2024052800007", "2000.00", "对账结果", "¥2391.28"} {
			if !strings.Contains(text, s) {
				t.Errorf("without JavaScript the page lacks %q", s)
			}
		}
	})
}
