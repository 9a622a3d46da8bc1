/* claims-audit report: optional enhancements (sorting, filtering, opening drill-down
   sections, opening them all for printing). Everything in the report is readable, and
   prints whole, without this script. */
(function () {
  "use strict";
  var doc = document;
  doc.documentElement.className += " js";
  // With the script, the provider table shows this many matching rows at a time (and a
  // "show all" button): laying out thousands of rows after every sort takes seconds.
  var PAGE = 300;

  function cellKey(cell, numeric) {
    var v = cell.getAttribute("data-v");
    if (v === null) { v = cell.textContent.trim(); }
    if (!numeric) { return v.toLowerCase(); }
    if (v === "" || v === "\u2014") { return -Infinity; }
    var n = parseFloat(v.replace(/[$,%<\s]/g, ""));
    return isNaN(n) ? -Infinity : n;
  }

  function announce(table, text) {
    var live = doc.getElementById(table.id + "-status");
    if (live) { live.textContent = text; }
  }

  function makeSortable(table, afterSort) {
    var head = table.tHead;
    var body = table.tBodies[0];
    if (!head || !body) { return; }
    var headers = head.rows[head.rows.length - 1].cells;
    Array.prototype.forEach.call(headers, function (th, col) {
      if (th.hasAttribute("data-nosort")) { return; }
      var numeric = th.getAttribute("data-type") === "num";
      var button = doc.createElement("button");
      button.type = "button";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      button.setAttribute("title", "Sort by this column");
      th.appendChild(button);
      th.classList.add("sortable");
      button.addEventListener("click", function () {
        var current = th.getAttribute("aria-sort");
        var first = th.getAttribute("data-first");
        var ascending = current ? current !== "ascending" : (first ? first === "asc" : !numeric);
        Array.prototype.forEach.call(headers, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var keyed = Array.prototype.map.call(body.rows, function (row, i) {
          return [cellKey(row.cells[col], numeric), i, row];
        });
        keyed.sort(function (a, b) {
          if (a[0] < b[0]) { return ascending ? -1 : 1; }
          if (a[0] > b[0]) { return ascending ? 1 : -1; }
          return a[1] - b[1];
        });
        if (afterSort) { afterSort(keyed.map(function (k) { return k[2]; })); }
        var frag = doc.createDocumentFragment();
        keyed.forEach(function (k) { frag.appendChild(k[2]); });
        body.appendChild(frag);
        announce(table, "Sorted by " + button.textContent.trim() + (ascending ? ", ascending" : ", descending"));
      });
    });
  }

  function providerTable() {
    var table = doc.getElementById("providers-table");
    var controls = doc.getElementById("providers-controls");
    if (!table || !controls) { return; }
    controls.hidden = false;
    var text = doc.getElementById("pf-text");
    var flag = doc.getElementById("pf-flag");
    var withFindings = doc.getElementById("pf-findings");
    var more = doc.getElementById("pf-all");
    var body = table.tBodies[0];
    var showAll = false;
    var printing = false;

    function searchText(row) {
      if (row.searchText === undefined) {
        row.searchText = [0, 1, 2].map(function (i) {
          return row.cells[i] ? row.cells[i].textContent : "";
        }).join(" ").toLowerCase();
      }
      return row.searchText;
    }

    function matches(row, q, f, onlyFindings) {
      if (q && searchText(row).indexOf(q) === -1) { return false; }
      var rowFlag = row.getAttribute("data-flag") || "";
      if (f === "998" && rowFlag !== "99.8%") { return false; }
      if (f === "any" && rowFlag === "") { return false; }
      if (f === "eligible" && !row.hasAttribute("data-eligible")) { return false; }
      if (onlyFindings && !row.hasAttribute("data-findings")) { return false; }
      return true;
    }

    function apply(order) {
      var rows = order || Array.prototype.slice.call(body.rows);
      var q = text.value.trim().toLowerCase();
      var f = flag.value;
      var onlyFindings = withFindings.checked;
      var matching = 0;
      var shown = 0;
      rows.forEach(function (row) {
        var ok = matches(row, q, f, onlyFindings);
        if (ok) { matching += 1; }
        var visible = ok && (showAll || printing || shown < PAGE);
        if (visible) { shown += 1; }
        if (row.hidden === visible) { row.hidden = !visible; }
      });
      var filtered = matching < rows.length;
      announce(table, filtered
        ? "Showing " + shown + " of " + matching + " matching providers (" + rows.length + " in all)"
        : "Showing " + shown + " of " + rows.length + " providers");
      more.hidden = shown >= matching;
      more.textContent = "Show all " + matching.toLocaleString("en-US") + (filtered ? " matching" : "") + " providers";
    }

    var timer = null;
    text.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 120); });
    flag.addEventListener("change", function () { apply(); });
    withFindings.addEventListener("change", function () { apply(); });
    more.addEventListener("click", function () { showAll = true; apply(); });
    window.addEventListener("beforeprint", function () { printing = true; apply(); });
    window.addEventListener("afterprint", function () { printing = false; apply(); });
    makeSortable(table, apply);
    apply();
  }

  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (!id) { return; }
    var target = doc.getElementById(id);
    if (target && target.tagName === "DETAILS") {
      target.open = true;
      target.scrollIntoView();
    }
  }

  // Printing opens every closed <details> (the flagged lines of each provider above all)
  // and closes them again afterwards. report.css prints them open without script as well
  // (::details-content); this covers browsers that lack it.
  function openDetailsForPrint() {
    var opened = [];
    window.addEventListener("beforeprint", function () {
      Array.prototype.forEach.call(doc.querySelectorAll("details:not([open])"), function (d) {
        d.open = true;
        opened.push(d);
      });
    });
    window.addEventListener("afterprint", function () {
      opened.forEach(function (d) { d.open = false; });
      opened = [];
    });
  }

  Array.prototype.forEach.call(doc.querySelectorAll("table.sortable-table"), function (table) {
    if (table.id !== "providers-table") { makeSortable(table); }
  });
  providerTable();
  openDetailsForPrint();
  window.addEventListener("hashchange", openTarget);
  openTarget();
}());
