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

    function show(token) {
      call(api, token).then(function (res) {
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
        (options.moves[c.status] || []).forEach(function (to) {
          // a move to the same status is an escalation one level up
          var b = text("button", to === c.status ? t.higher : t.to + " " + (t.statuses[to] || to));
          b.dataset.to = to;
          b.addEventListener("click", function () {
            var note = root.querySelector(".gg-note").value;
            var body = { to: to, note: note || null };
            if (to === "dispatched") {
              call(api + "/dispatch", token, "POST", note ? { note: note } : {})
                .then(done);
              return;
            }
            if (to === "escalated") { body.department = options.unit; }
            if (to === "duplicate") { body.duplicate_of = Number(prompt(t.duplicate_of)); }
            if ((to === "resolved" && c.status === "escalated") ||
                (to === "in_progress" && c.status === "escalated")) { body.response = note; }
            call(api + "/transitions", token, "POST", body).then(done);
          });
          actions.appendChild(b);
        });
        staff.appendChild(actions);
      });
    }

    function done(res) {
      if (res.ok) { location.reload(); } else { message.textContent = res.data.error.message; }
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
