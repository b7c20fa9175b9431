// Enhancement only: the table is complete without this script. It shows the
// controls, filters rows by kind and order number, and sorts by any column;
// amounts sort on their data-sort attribute (integer fen), never on yuan text.
(function () {
  "use strict";
  var table = document.getElementById("findings");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var kind = document.getElementById("kind-filter");
  var search = document.getElementById("order-search");
  var shown = document.getElementById("shown");
  document.getElementById("controls").hidden = false;

  function filter() {
    var k = kind.value, q = search.value.trim().toLowerCase(), n = 0;
    rows.forEach(function (tr) {
      var orders = tr.cells[2].textContent + "\n" + tr.cells[3].textContent;
      var ok = (!k || tr.getAttribute("data-kind") === k) &&
        (!q || orders.toLowerCase().indexOf(q) >= 0);
      tr.hidden = !ok;
      if (ok) { n++; }
    });
    shown.textContent = "显示 / showing " + n + " / " + rows.length;
  }
  kind.addEventListener("change", filter);
  search.addEventListener("input", filter);

  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  heads.forEach(function (th, col) {
    th.tabIndex = 0;
    th.title = "点击排序 / click to sort";
    function sort() {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      var num = th.getAttribute("data-type") === "num";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var keyed = rows.map(function (tr, i) {
        var td = tr.cells[col], key;
        if (num) {
          var s = td.getAttribute("data-sort");
          key = s === "" || s === null ? null : Number(s);
        } else {
          key = td.textContent;
        }
        return { tr: tr, key: key, i: i };
      });
      keyed.sort(function (a, b) {
        // Empty cells go last in either direction; ties keep report order.
        if (a.key === null || b.key === null) {
          if (a.key === b.key) { return a.i - b.i; }
          return a.key === null ? 1 : -1;
        }
        var c = num ? a.key - b.key : (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
        if (!asc) { c = -c; }
        return c || a.i - b.i;
      });
      keyed.forEach(function (k) { tbody.appendChild(k.tr); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
    });
  });
  filter();
}());
