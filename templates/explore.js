  // The explorable report: the map drawn from the compressed point data (#explore-data), a
  // search over the documents, a side panel per document, a cluster filter over the map and the
  // tables, colour modes, sortable columns, the duplicate review and CSV downloads.
  // Corpus strings reach the page only as text nodes (textContent) and reach plotly escaped.
  var X = null, n = 0;
  var picked = {}, pickedCount = 0;   // the cluster filter: ids shown (none picked: all)
  var colourBy = "cluster", matches = null, selected = -1;
  var review = {};                    // id -> true (drop) / false (keep): the reviewer's changes
  var byId = {}, policyDrop = {}, groupMembers = {}, lower = null, hover = [];
  var clusterOf = {};
  audit.clusters.forEach(function (c) { clusterOf[c.id] = c; });
  var mapDiv = document.getElementById("chart-map");

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function snippet(s, chars) { s = String(s); return s.length > chars ? s.slice(0, chars) + "…" : s; }
  function textOf(i) { return X.text ? X.text[i] : ""; }
  function clusterName(c) { var s = clusterOf[c]; return "cluster " + c + (s ? ": " + s.label : ""); }
  function shown(i) { return pickedCount === 0 || picked[X.cluster[i]] === true; }

  // Downloads `text` as a file; the last one is kept on window for tests and scripts.
  function download(name, text) {
    window.embedscopeLastDownload = { name: name, text: text };
    var url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    var a = el("a");
    a.href = url; a.download = name;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }
  // One CSV field: quoted when needed; text that a spreadsheet would run as a formula is
  // prefixed with an apostrophe.
  function csvField(v) {
    var s = v === null || v === undefined ? "" : String(v);
    if (/^[=+\-@\t\r]/.test(s) && isNaN(Number(s))) { s = "'" + s; }
    return /[",\r\n]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
  }
  function csv(rows) { return rows.map(function (r) { return r.map(csvField).join(","); }).join("\r\n") + "\r\n"; }

  // ---- colour modes ----
  var CONTINUOUS = { outlier: "outlier score (GLOSH)", length: "length (characters, log10)", centroid: "cosine to the cluster centre" };
  function modes() {
    var m = [["cluster", "K-Means cluster"]];
    if (X.hdbscan) { m.push(["noise", "HDBSCAN noise"]); m.push(["outlier", CONTINUOUS.outlier]); }
    if (X.length) { m.push(["length", "document length"]); }
    m.push(["centroid", CONTINUOUS.centroid]);
    if (X.group) { m.push(["duplicate", "duplicates (kept, dropped)"]); }
    if (X.language) { m.push(["language", "language"]); }
    if (X.tokens && X.tokens.some(function (t) { return t !== null; })) { m.push(["truncated", "truncated at the token limit"]); }
    return m;
  }
  function category(mode, i) {
    if (mode === "noise") { var h = X.hdbscan[i]; return h === null ? "not in the noise section's sample" : h < 0 ? "noise" : "in a dense cluster"; }
    if (mode === "duplicate") { return X.group[i] < 0 ? "no near duplicate" : isDropped(X.id[i]) ? "dropped" : "kept, has duplicates"; }
    if (mode === "language") { return X.language[i] || "unclear"; }
    if (mode === "truncated") { return X.tokens[i] === null ? "not counted" : X.truncated[i] ? "over the token limit" : "within the limit"; }
    return null;
  }
  function value(mode, i) {
    if (mode === "outlier") { return X.outlier[i]; }
    if (mode === "length") { return Math.log10(1 + X.length[i]); }
    return X.centroid[i];
  }
  var PALETTE = ["#2f6fdb", "#e67e22", "#1a9850", "#c0392b", "#6b4fbb", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  function marker(color) { return { size: 4, opacity: 0.75, color: color }; }

  function traces() {
    var out = [], i;
    var base = function (idx, name) {
      return { type: "scattergl", mode: "markers", name: name, x: idx.map(function (j) { return X.x[j]; }),
               y: idx.map(function (j) { return X.y[j]; }), customdata: idx,
               text: idx.map(function (j) { return hover[j]; }), hovertemplate: "%{text}<extra></extra>" };
    };
    if (colourBy === "cluster") {
      var per = {};
      for (i = 0; i < n; i++) { (per[X.cluster[i]] = per[X.cluster[i]] || []).push(i); }
      audit.clusters.forEach(function (c) {
        var t = base(per[c.id] || [], c.id + ": " + esc(c.label) + " (" + c.size + ")" + (unstable(c.id) ? " · unstable" : ""));
        t.meta = c.id; t.marker = marker(undefined);
        if (pickedCount > 0 && !picked[c.id]) { t.visible = "legendonly"; }
        out.push(t);
      });
    } else if (CONTINUOUS[colourBy]) {
      var idx = [], missing = [];
      for (i = 0; i < n; i++) { if (shown(i)) { (value(colourBy, i) === null || isNaN(value(colourBy, i)) ? missing : idx).push(i); } }
      var vals = idx.map(function (j) { return value(colourBy, j); });
      var sorted = vals.slice().sort(function (a, b) { return a - b; });
      var t = base(idx, CONTINUOUS[colourBy]);
      t.marker = { size: 4, opacity: 0.8, color: vals, colorscale: "Viridis", showscale: true,
                   cmin: sorted[Math.floor(0.02 * (sorted.length - 1))], cmax: sorted[Math.floor(0.98 * (sorted.length - 1))],
                   colorbar: { title: { text: CONTINUOUS[colourBy] }, thickness: 12 } };
      t.showlegend = false;
      out.push(t);
      if (missing.length) { var m = base(missing, "not measured"); m.marker = marker("#c8ccd4"); out.push(m); }
    } else {
      var cats = {}, order = [];
      for (i = 0; i < n; i++) {
        if (!shown(i)) { continue; }
        var c = category(colourBy, i);
        if (!cats[c]) { cats[c] = []; order.push(c); }
        cats[c].push(i);
      }
      order.sort().forEach(function (c, k) {
        var t = base(cats[c], esc(c) + " (" + cats[c].length + ")");
        t.marker = marker(PALETTE[k % PALETTE.length]);
        out.push(t);
      });
    }
    if (matches) {
      var mi = matches.filter(shown);
      var s = base(mi, "search: " + mi.length + " match" + (mi.length === 1 ? "" : "es"));
      s.marker = { size: 9, color: "rgba(0,0,0,0)", line: { width: 1.5, color: "#d62728" } };
      out.push(s);
    }
    if (selected >= 0) {
      var p = base([selected], "selected");
      p.marker = { size: 15, symbol: "star", color: "#111", line: { width: 1, color: "#fff" } };
      out.push(p);
    }
    return out;
  }
  var layout = { margin: { t: 10, r: 10, b: 30, l: 30 }, legend: { itemsizing: "constant" }, uirevision: "keep",
                 xaxis: { showticklabels: false, zeroline: false }, yaxis: { showticklabels: false, zeroline: false } };
  function redraw() {
    if (!mapDiv) { return Promise.resolve(); }
    return Plotly.react(mapDiv, traces(), layout, config);
  }
  // Points drawn under the current filter (the search and selection overlays not counted).
  function visiblePoints() { var k = 0; for (var i = 0; i < n; i++) { if (shown(i)) { k++; } } return k; }

  // ---- the cluster filter: over the map (legend), the cluster table and every table ----
  function pick(c) {
    if (picked[c]) { delete picked[c]; pickedCount--; } else { picked[c] = true; pickedCount++; }
    applyFilter();
  }
  function clearFilter() { clearFilterSilently(); applyFilter(); }
  function applyFilter() { filterTables(); if (matches) { showMatches(); } return redraw(); }
  function filterTables() {
    var state = document.getElementById("filter-state");
    var ids = Object.keys(picked).map(Number).sort(function (a, b) { return a - b; });
    state.textContent = pickedCount ? "Showing clusters " + ids.join(", ") + " only." : "Showing every cluster.";
    document.getElementById("filter-clear").hidden = pickedCount === 0;
    document.querySelectorAll("main tr").forEach(function (tr) {
      var hide = false;
      if (pickedCount) {
        var c = tr.getAttribute("data-cluster");
        if (c !== null) { hide = !picked[Number(c)]; } else {
          var docs = tr.querySelectorAll("[data-doc]"), known = 0, inside = 0;
          docs.forEach(function (d) { var i = byId[d.getAttribute("data-doc")]; if (i !== undefined) { known++; if (shown(i)) { inside++; } } });
          hide = known > 0 && inside === 0;
        }
      }
      tr.classList.toggle("filtered", hide);
      var box = tr.querySelector("input.pick");
      if (box) { box.checked = !!picked[Number(tr.getAttribute("data-cluster"))]; }
    });
    root.setAttribute("data-visible-points", String(visiblePoints()));
  }

  // ---- search ----
  var searchBox = document.getElementById("search"), results = document.getElementById("search-results");
  function search(q) {
    q = q.trim().toLowerCase();
    results.textContent = "";
    if (!q) { matches = null; root.removeAttribute("data-matches"); return redraw(); }
    if (!lower) { lower = X.id.map(function (id, i) { return (id + "\n" + textOf(i)).toLowerCase(); }); }
    matches = [];
    for (var i = 0; i < n; i++) { if (lower[i].indexOf(q) >= 0) { matches.push(i); } }
    matches.query = q;
    root.setAttribute("data-matches", String(matches.length));
    showMatches();
    return redraw();
  }
  function showMatches() {
    results.textContent = "";
    var q = matches.query, inFilter = matches.filter(shown);
    results.appendChild(el("p", "muted", matches.length + " document" + (matches.length === 1 ? "" : "s") + " match" +
      (pickedCount ? " (" + inFilter.length + " in the clusters shown)" : "") + (inFilter.length > 50 ? "; the first 50:" : "") +
      (matches.length ? "" : ". Only the plotted documents are searched.")));
    var ol = el("ol", "matches");
    inFilter.slice(0, 50).forEach(function (i) {
      var li = el("li"), t = textOf(i) || X.id[i], at = t.toLowerCase().indexOf(q);
      var a = docLink(i, null);
      if (at < 0) { a.textContent = snippet(t, 160); } else {
        var from = Math.max(0, at - 60);
        a.appendChild(document.createTextNode((from > 0 ? "…" : "") + t.slice(from, at)));
        a.appendChild(el("mark", null, t.slice(at, at + q.length)));
        a.appendChild(document.createTextNode(snippet(t.slice(at + q.length), 100)));
      }
      li.appendChild(a);
      var meta = " #" + X.id[i] + " · " + clusterName(X.cluster[i]);
      if (X.group && X.group[i] >= 0) { meta += " · duplicate group " + X.group[i]; }
      li.appendChild(el("span", "id", meta));
      ol.appendChild(li);
    });
    results.appendChild(ol);
  }
  var timer = null;
  if (searchBox) searchBox.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { search(searchBox.value); }, 120); });

  // ---- the side panel ----
  var panel = document.getElementById("panel"), panelBody = document.getElementById("panel-body");
  document.getElementById("panel-close").addEventListener("click", function () { panel.hidden = true; selected = -1; redraw(); });
  function docLink(i, label) {
    var a = el("a", "doc", label);
    a.href = "#"; a.setAttribute("data-point", String(i));
    a.addEventListener("click", function (ev) { ev.preventDefault(); openPoint(i); });
    return a;
  }
  function fact(dl, name, valueNode) {
    dl.appendChild(el("dt", null, name));
    var dd = el("dd");
    if (typeof valueNode === "object") { dd.appendChild(valueNode); } else { dd.textContent = String(valueNode); }
    dl.appendChild(dd);
  }
  function dropToggle(id) {
    var l = el("label", "ctl choice"), box = el("input");
    box.type = "checkbox"; box.setAttribute("data-drop", id); box.checked = isDropped(id);
    box.addEventListener("change", function () { setDrop(id, box.checked); });
    l.appendChild(box); l.appendChild(document.createTextNode(" drop"));
    return l;
  }
  function openDoc(id) {
    var i = byId[id];
    if (i !== undefined) { return openPoint(i); }
    panelBody.textContent = "";
    panelBody.appendChild(el("h3", null, "#" + id));
    panelBody.appendChild(el("p", "muted", "Not among the plotted documents (the map shows a sample), so only its duplicate status is known here."));
    duplicatePart(id, -1);
    panel.hidden = false;
    root.setAttribute("data-panel", id);
  }
  function openPoint(i) {
    selected = i;
    panelBody.textContent = "";
    panelBody.appendChild(el("h3", null, "#" + X.id[i]));
    var dl = el("dl", "facts-list"), c = X.cluster[i];
    var only = el("a", null, clusterName(c));
    only.href = "#"; only.title = "show only this cluster";
    only.addEventListener("click", function (ev) { ev.preventDefault(); clearFilterSilently(); pick(c); });
    fact(dl, "cluster", only);
    fact(dl, "cosine to the cluster centre", X.centroid[i]);
    if (X.hdbscan) {
      fact(dl, "HDBSCAN", X.hdbscan[i] === null ? "not in the noise section's sample" : X.hdbscan[i] < 0 ? "noise" : "dense cluster " + X.hdbscan[i]);
      fact(dl, "outlier score (GLOSH)", X.outlier[i] === null ? "-" : X.outlier[i]);
    }
    if (X.length) { fact(dl, "length", X.length[i] + " characters"); }
    if (X.tokens && X.tokens[i] !== null) { fact(dl, "tokens", X.tokens[i] + (X.truncated[i] ? " (over the limit: the tail is not embedded)" : "")); }
    if (X.language && X.language[i]) { fact(dl, "language", X.language[i]); }
    panelBody.appendChild(dl);
    if (X.text) {
      panelBody.appendChild(el("div", "doc-text", X.text[i]));
      if (X.length[i] > X.text_chars) { panelBody.appendChild(el("p", "muted", "The first " + X.text_chars + " of " + X.length[i] + " characters.")); }
    }
    duplicatePart(X.id[i], i);
    panelBody.appendChild(el("h4", null, "Nearest neighbours"));
    var nn = X.nn[i], ol = el("ol", "examples");
    for (var k = 0; k + 1 < nn.length; k += 2) {
      var li = el("li");
      li.appendChild(docLink(nn[k], snippet(textOf(nn[k]) || X.id[nn[k]], 140)));
      li.appendChild(el("span", "id", " #" + X.id[nn[k]] + " · cos " + nn[k + 1].toFixed(3) + " · cluster " + X.cluster[nn[k]]));
      ol.appendChild(li);
    }
    if (!ol.children.length) { ol.appendChild(el("li", "muted", "none among the plotted documents")); }
    panelBody.appendChild(ol);
    panel.hidden = false;
    panel.scrollTop = 0;
    root.setAttribute("data-panel", X.id[i]);
    redraw();
  }
  function duplicatePart(id, i) {
    var g = groupOf(id);
    if (g === null) { if (X.group) { panelBody.appendChild(el("p", "muted", "No near duplicate at the audit's threshold.")); } return; }
    var members = groupMembers[g];
    panelBody.appendChild(el("h4", null, "Duplicate group " + g + " (" + members.length + " documents)"));
    panelBody.appendChild(el("p", "muted", "The policy keeps #" + members[0] + " and drops the rest; tick or untick to change it (the download in Duplicates follows)."));
    var ul = el("ul", "members");
    members.forEach(function (m) {
      var li = el("li"), j = byId[m];
      li.appendChild(j !== undefined && j !== i ? docLink(j, "#" + m) : el("span", j === i ? "this" : "id", "#" + m + (j === i ? " (this document)" : "")));
      if (j !== undefined && j !== i) { li.appendChild(el("span", "muted", " " + snippet(textOf(j), 90))); }
      li.appendChild(document.createTextNode(" "));
      li.appendChild(dropToggle(m));
      ul.appendChild(li);
    });
    panelBody.appendChild(ul);
  }
  function clearFilterSilently() { picked = {}; pickedCount = 0; }

  // ---- the duplicate review ----
  function groupOf(id) {
    var i = byId[id];
    if (i !== undefined && X.group) { return X.group[i] >= 0 ? X.group[i] : null; }
    var d = policyDrop[id];
    if (d) { return d[2]; }
    for (var g in groupMembers) { if (groupMembers[g][0] === id) { return Number(g); } }
    return null;
  }
  function isDropped(id) { return review.hasOwnProperty(id) ? review[id] : policyDrop.hasOwnProperty(id); }
  function setDrop(id, drop) {
    if (drop === policyDrop.hasOwnProperty(id)) { delete review[id]; } else { review[id] = drop; }
    document.querySelectorAll("input[data-drop]").forEach(function (b) { if (b.getAttribute("data-drop") === id) { b.checked = drop; } });
    reviewState();
    if (colourBy === "duplicate") { redraw(); }
  }
  function reviewState() {
    var s = document.getElementById("review-state");
    if (!s) { return; }
    var changed = Object.keys(review).length;
    s.textContent = dropList().length - 1 + " documents to drop" + (changed ? " (" + changed + " changed by you)" : " (the policy's choice)") + ".";
  }
  // The current drop list: the policy's, with the reviewer's changes; a header row first.
  function dropList() {
    var rows = [["id", "row", "group", "kept_id", "decided_by"]];
    (X.drops || []).forEach(function (d) { if (isDropped(d[0])) { rows.push([d[0], d[1], d[2], d[3], "policy"]); } });
    Object.keys(review).forEach(function (id) {
      if (review[id] && !policyDrop.hasOwnProperty(id)) {
        var g = groupOf(id);
        rows.push([id, "", g === null ? "" : g, g === null ? "" : groupMembers[g][0], "reviewer"]);
      }
    });
    return rows;
  }
  function setUpReview() {
    var box = document.getElementById("dup-review");
    if (box && X.drops_omitted) {
      box.appendChild(el("p", null, "The policy drops " + X.drops_omitted + " documents, too many to carry in this page for review: " +
        "the drop list is in the tables (`embedscope audit --tables DIR`: assignments.parquet, the rows with kept = false)."));
      return;
    }
    if (!box || !X.drops) { return; }
    box.appendChild(el("p", null, "Review: the policy keeps the first document of each group and drops the rest. Tick or untick \"drop\" beside a document in the pairs below or in its side panel; the download is the current choice, ready to hand back to the pipeline."));
    var b = el("button", "ctl", "Download the drop list (CSV)");
    b.id = "download-drops";
    b.addEventListener("click", function () { download("drop-list.csv", csv(dropList())); });
    box.appendChild(b);
    box.appendChild(el("span", "muted", " "));
    var s = el("span", null); s.id = "review-state"; box.appendChild(s);
    document.querySelectorAll("#duplicates tbody [data-doc]").forEach(function (d) {
      if (groupOf(d.getAttribute("data-doc")) !== null) { d.parentNode.insertBefore(dropToggle(d.getAttribute("data-doc")), d.nextSibling); }
    });
    reviewState();
  }

  // ---- tables: documents open the panel, clusters filter, columns sort, CSV downloads ----
  // Every document id in a table opens its panel.
  function setUpDocLinks() {
    document.querySelectorAll("main [data-doc]").forEach(function (d) {
      d.classList.add("doclink");
      d.title = "open this document";
      d.addEventListener("click", function () { openDoc(d.getAttribute("data-doc")); });
    });
  }
  function setUpTables() {
    setUpDocLinks();
    document.querySelectorAll("main tr[data-cluster] td.pick-cell").forEach(function (td) {
      var box = el("input", "pick ctl"); box.type = "checkbox"; box.title = "show only the picked clusters";
      var c = Number(td.parentNode.getAttribute("data-cluster"));
      box.addEventListener("change", function () { pick(c); });
      td.insertBefore(box, td.firstChild);
    });
    document.querySelectorAll("main th.sortable").forEach(function (th) {
      th.title = "sort"; th.addEventListener("click", function () { sortBy(th); });
    });
  }
  function setUpDownloads() {
    document.querySelectorAll("main table").forEach(function (t, k) {
      var b = el("button", "ctl csv", "CSV");
      var section = t.closest("section");
      var name = (t.id || (section ? section.id : "table") + "-" + k) + ".csv";
      b.title = "download this table (the rows shown) as CSV";
      b.addEventListener("click", function () { download(name, tableCsv(t)); });
      t.parentNode.insertBefore(b, t);
    });
  }
  function cellText(td) {
    var c = td.cloneNode(true);
    c.querySelectorAll(".ctl").forEach(function (x) { x.remove(); });
    return c.textContent.replace(/\s+/g, " ").trim();
  }
  function tableCsv(t) {
    var rows = [];
    t.querySelectorAll("tr").forEach(function (tr) {
      if (tr.classList.contains("filtered")) { return; }
      rows.push(Array.prototype.map.call(tr.children, cellText));
    });
    return csv(rows);
  }
  function sortBy(th) {
    var table = th.closest("table"), col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asc = th.getAttribute("data-sort") !== "asc";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-sort"); });
    th.setAttribute("data-sort", asc ? "asc" : "desc");
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    var key = function (tr) { var t = cellText(tr.children[col]), v = parseFloat(t); return isNaN(v) ? t.toLowerCase() : v; };
    rows.sort(function (a, b) { var x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  // ---- start ----
  function inflate(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }
  var blob = document.getElementById("explore-data");
  if (blob && blob.textContent.trim()) {
    // The map counts among the charts drawn (data-charts); without one nothing is drawn.
    var loaded = inflate(blob.textContent.trim()).then(function (data) {
      X = data; n = X.x.length;
      for (var i = 0; i < n; i++) {
        byId[X.id[i]] = i;
        hover[i] = "<b>" + esc(clusterName(X.cluster[i])) + "</b><br>" + esc(snippet(textOf(i) || X.id[i], 120));
      }
      (X.drops || []).forEach(function (d) {
        policyDrop[d[0]] = d;
        (groupMembers[d[2]] = groupMembers[d[2]] || [d[3]]).push(d[0]);
      });
      // For tests and scripts: the same actions the page's controls take.
      window.embedscope = { search: search, openPoint: openPoint, openDoc: openDoc, pick: pick, clearFilter: clearFilter,
                            setDrop: setDrop, dropList: dropList, visiblePoints: visiblePoints, data: X };
      if (!mapDiv) {
        // No map (--no-map): documents in tables still open the panel, the review still works.
        setUpDocLinks();
        setUpReview();
        root.setAttribute("data-explore", "ready");
        return;
      }
      var select = document.getElementById("colour-by");
      modes().forEach(function (m) { var o = el("option", null, m[1]); o.value = m[0]; select.appendChild(o); });
      select.addEventListener("change", function () { colourBy = select.value; redraw(); });
      document.getElementById("filter-clear").addEventListener("click", clearFilter);
      setUpTables();
      setUpReview();
      filterTables();
      return Plotly.newPlot(mapDiv, traces(), layout, config).then(function () {
        mapDiv.on("plotly_click", function (ev) {
          var p = ev.points && ev.points[0];
          if (p && p.customdata !== undefined) { openPoint(p.customdata); }
        });
        mapDiv.on("plotly_legendclick", function (ev) {
          var t = ev.data[ev.curveNumber];
          if (colourBy === "cluster" && t.meta !== undefined) { pick(t.meta); return false; }
          return true;
        });
        mapDiv.on("plotly_legenddoubleclick", function () { return false; });
        root.setAttribute("data-explore", "ready");
      });
    });
    if (mapDiv) { pending.push(loaded); } else {
      loaded.catch(function (e) { errors.push(String(e)); root.setAttribute("data-errors", errors.join(" | ")); });
    }
  }
  setUpDownloads();
