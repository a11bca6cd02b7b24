/*
 * gridgov: the case page's staff side.
 *
 * The page itself shows what anyone may see.  With a staff token (kept in this
 * browser's localStorage) this script adds the contact, photos, the full
 * history and the buttons that move the case on.  All text is set with
 * textContent.
 */
(function () {
  "use strict";

  function text(tag, value) {
    var el = document.createElement(tag);
    el.textContent = value === null || value === undefined ? "" : String(value);
    return el;
  }

  function call(url, token, method, body) {
    var headers = { "Authorization": "Bearer " + token };
    if (body) { headers["Content-Type"] = "application/json"; }
    return fetch(url, { method: method || "GET", headers: headers,
      body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().then(function (data) { return { ok: r.ok, data: data }; });
      });
  }

  window.gridgovCase = function (root, options) {
    var t = options.labels;
    var api = options.api + "/issues/" + options.id;
    var tokenBox = root.querySelector(".gg-token");
    var staff = root.querySelector(".gg-staff");
    var message = root.querySelector(".gg-message");

    var shown = 0;  // only the latest sign-in draws: an earlier answer arriving late is dropped

    function show(token) {
      var mine = ++shown;
      call(api, token).then(function (res) {
        if (mine !== shown) { return; }
        if (!res.ok) { message.textContent = res.data.error.message; return; }
        var c = res.data;
        staff.textContent = "";
        var who = c.reporter && (c.reporter.name || c.reporter.phone)
          ? (c.reporter.name || "") + " " + (c.reporter.phone || "") : t.anonymous;
        staff.appendChild(text("p", t.reporter + ": " + who));
        (c.photos || []).forEach(function (p) {
          var img = document.createElement("img");
          img.alt = t.photo;
          img.className = "gg-thumb";
          fetch(p.thumbnail_url, { headers: { "Authorization": "Bearer " + token } })
            .then(function (r) { return r.blob(); })
            .then(function (b) { img.src = URL.createObjectURL(b); });
          staff.appendChild(img);
        });
        call(api + "/history", token).then(function (h) {
          if (mine !== shown) { return; }
          var table = document.createElement("table");
          table.className = "gg-history";
          h.data.events.forEach(function (e) {
            var tr = document.createElement("tr");
            var name = function (s) { return s ? (t.statuses[s] || s) : ""; };
            [window.gridgovTime(e.at, options.lang, options.tz), name(e.from), name(e.to),
              e.actor, e.note || ""].forEach(function (v) {
              tr.appendChild(text("td", v));
            });
            table.appendChild(tr);
          });
          staff.appendChild(table);
        });
        var actions = document.createElement("div");
        actions.className = "gg-actions";
        var choice = text("div", "");  // candidates, nearby cases or a confirmation
        choice.className = "gg-choice";
        (options.moves[c.status] || []).forEach(function (to) {
          // a move to the same status is an escalation one level up
          var b = text("button", to === c.status ? t.higher : t.to + " " + (t.statuses[to] || to));
          b.type = "button";
          b.dataset.to = to;
          b.addEventListener("click", function () { act(c, to, token, choice); });
          actions.appendChild(b);
        });
        staff.appendChild(actions);
        staff.appendChild(choice);
      });
    }

    function note() { return root.querySelector(".gg-note").value || null; }

    function move(token, body) {
      call(api + "/transitions", token, "POST", body).then(done);
    }

    /* What a button does: dispatching shows the squads to choose from; a duplicate is
       chosen among the open cases nearby; rejecting and closing ask first. */
    function act(c, to, token, choice) {
      choice.textContent = "";
      message.textContent = "";
      var body = { to: to, note: note() };
      if (to === "dispatched") { return pickSquad(token, choice); }
      if (to === "duplicate") { return pickDuplicate(c, token, choice); }
      if (to === "escalated") { body.department = options.unit; }
      if (c.status === "escalated" && (to === "resolved" || to === "in_progress")) {
        body.response = body.note;
      }
      if (t["confirm_" + to]) {
        return confirmThen(choice, t["confirm_" + to], function () { move(token, body); });
      }
      move(token, body);
    }

    function confirmThen(choice, question, action) {
      choice.appendChild(text("p", question));
      var yes = text("button", t.confirm);
      var no = text("button", t.cancel);
      yes.type = no.type = "button";
      yes.className = "gg-confirm";
      no.className = "gg-cancel";
      yes.addEventListener("click", action);
      no.addEventListener("click", function () { choice.textContent = ""; });
      choice.appendChild(yes);
      choice.appendChild(no);
    }

    function row(table, cells, button) {
      var tr = document.createElement("tr");
      cells.forEach(function (v) { tr.appendChild(text("td", v)); });
      var cell = document.createElement("td");
      cell.appendChild(button);
      tr.appendChild(cell);
      table.appendChild(tr);
    }

    function pickSquad(token, choice) {
      call(options.api + "/dispatch/candidates?issue_id=" + options.id, token).then(function (res) {
        if (!res.ok) { return failed(res); }
        choice.appendChild(text("h3", t.candidates));
        if (!res.data.candidates.length) {
          choice.appendChild(text("p", t.no_candidates));
          return;
        }
        var table = document.createElement("table");
        table.className = "gg-candidates";
        res.data.candidates.forEach(function (q) {
          var pick = text("button", t.dispatch_to);
          pick.type = "button";
          pick.addEventListener("click", function () {
            var body = { squad: q.squad_id };
            if (note()) { body.note = note(); }
            call(api + "/dispatch", token, "POST", body).then(done);
          });
          row(table, [(options.lang === "en" && q.squad_name_en) || q.squad_name, t.distance.replace("{m}", Math.round(q.distance_m)),
            t.eta.replace("{min}", Math.max(1, Math.round(q.eta_min))),
            t.load.replace("{load}", q.load).replace("{capacity}", q.capacity)], pick);
        });
        choice.appendChild(table);
      });
    }

    function pickDuplicate(c, token, choice) {
      var d = 0.003;  // about 300 m around the case
      var box = [c.location.lon - d, c.location.lat - d, c.location.lon + d, c.location.lat + d];
      var query = new URLSearchParams({ bbox: box.join(","), status: options.open.join(","),
        limit: "50" });
      call(options.api + "/issues?" + query.toString(), token).then(function (res) {
        if (!res.ok) { return failed(res); }
        var others = res.data.features.filter(function (f) { return f.id !== c.id; });
        choice.appendChild(text("h3", t.duplicates));
        if (!others.length) {
          choice.appendChild(text("p", t.no_duplicates));
          return;
        }
        var table = document.createElement("table");
        table.className = "gg-duplicates";
        others.forEach(function (f) {
          var p = f.properties;
          var pick = text("button", t.mark_duplicate);
          pick.type = "button";
          pick.addEventListener("click", function () {
            move(token, { to: "duplicate", note: note(), duplicate_of: f.id });
          });
          var name = options.lang === "en" ? p.category.name_en : p.category.name_zh;
          row(table, ["#" + f.id, name, p.description,
            window.gridgovTime(p.reported_at, options.lang, options.tz)], pick);
        });
        choice.appendChild(table);
      });
    }

    function failed(res) {
      var code = res.data && res.data.error ? res.data.error.code : "";
      message.textContent = t.failed.replace("{code}", code);
    }

    function done(res) {
      if (res.ok) { location.reload(); } else { failed(res); }
    }

    /* A typed token is kept only once the server knows it: a wrong or revoked one
       would otherwise turn this phone's report page into a grid worker's, and its
       reports would be refused. */
    root.querySelector(".gg-login").addEventListener("click", function () {
      var typed = tokenBox.value.trim();
      if (!typed) { return; }
      message.textContent = "";
      fetch(options.api + "/me", { headers: { "Authorization": "Bearer " + typed } })
        .then(function (r) {
          if (r.ok) {
            localStorage.setItem("gridgovToken", typed);
            show(typed);
          } else if (r.status === 401 || r.status === 403) {
            message.textContent = t.token_bad;
          } else {
            message.textContent = t.token_unchecked;
          }
        })
        .catch(function () { message.textContent = t.token_unchecked; });
    });
    var saved = localStorage.getItem("gridgovToken");
    if (saved) { tokenBox.value = saved; show(saved); }
  };
}());
