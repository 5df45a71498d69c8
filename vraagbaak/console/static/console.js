/*
 * Vraagbaak staff console: progress bars, a sortable and filterable result table. No frameworks, no inline
 * script (the Content Security Policy forbids it). Every fetch sends the CSRF token, even the GETs.
 */
(function () {
  "use strict";

  var body = document.body;
  var base = body.getAttribute("data-base") || "";
  var csrf = body.getAttribute("data-csrf") || "";
  var POLL_MS = 1000;

  function text(node, value) {
    if (node) node.textContent = value;
  }

  function duration(seconds) {
    if (seconds == null) return "";
    if (seconds < 90) return Math.max(1, Math.round(seconds)) + " seconden";
    var whole = Math.round(seconds / 60);
    return whole === 1 ? "1 minuut" : whole + " minuten";
  }

  // ---- Progress of background jobs: poll the JSON status, reload the page when the job is done ----
  function watch(box) {
    var id = box.getAttribute("data-taak");
    var bar = box.querySelector("progress");
    function poll() {
      fetch(base + "/taken/" + encodeURIComponent(id), {
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
      })
        .then(function (response) { return response.json().then(function (data) { return [response.ok, data]; }); })
        .then(function (result) {
          var ok = result[0], data = result[1];
          if (!ok) {
            text(box.querySelector(".stap"), data.fout || "De status kon niet gelezen worden.");
            return;
          }
          if (bar) {
            bar.value = data.procent;
            bar.textContent = Math.round(data.procent) + "%";
          }
          text(box.querySelector(".stap"), data.stap || "bezig");
          text(box.querySelector(".telling"), data.totaal ? data.gedaan + " van " + data.totaal : "");
          text(box.querySelector(".resterend"),
               data.seconden_te_gaan != null ? "Nog ongeveer " + duration(data.seconden_te_gaan) + "." : "");
          if (data.klaar) {
            window.location.reload();
          } else {
            window.setTimeout(poll, POLL_MS);
          }
        })
        .catch(function () {
          text(box.querySelector(".stap"), "Geen verbinding met de console. Laad de pagina opnieuw.");
        });
    }
    window.setTimeout(poll, POLL_MS);
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-taak]"), watch);

  // ---- Sortable tables: click a column heading; numbers and percentages sort as numbers ----
  function sortKey(cell) {
    var value = (cell.textContent || "").trim();
    var number = value.replace("%", "").replace(",", ".");
    return number !== "" && !isNaN(Number(number)) ? Number(number) : value.toLowerCase();
  }

  function sortBy(table, column, header) {
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.querySelectorAll("th"), function (th) {
      if (th.hasAttribute("aria-sort")) th.setAttribute("aria-sort", "none");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = sortKey(a.cells[column]), y = sortKey(b.cells[column]);
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    rows.forEach(function (row) { tbody.appendChild(row); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sorteerbaar"), function (table) {
    Array.prototype.forEach.call(table.querySelectorAll("th"), function (header, column) {
      var button = header.querySelector("button.sorteer");
      if (button) button.addEventListener("click", function () { sortBy(table, column, header); });
    });
  });

  // ---- Filter: only the rows that need attention ----
  Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), function (box) {
    var table = document.getElementById(box.getAttribute("data-filter"));
    if (!table) return;
    box.addEventListener("change", function () {
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        row.hidden = box.checked && !row.classList.contains("aandacht");
      });
    });
  });
})();
