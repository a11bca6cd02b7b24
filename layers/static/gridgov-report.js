/*
 * gridgov: report a problem from a phone.
 *
 * A pin on the map (located, dragged or tapped), a category, a few words, an
 * optional photo.  Every report is put in this phone's queue (localStorage)
 * before it is sent, with an Idempotency-Key made here, and stays there until
 * the server confirms it: a retry after a lost answer returns the same case.
 * A staff token the server refuses (401, 403) does not lose a report: it is
 * sent again as a resident's, and a token it no longer knows (401) is dropped
 * from this phone.
 * Only an answer about the report itself (422 ...) ends its retries, and then
 * the page says why, in its own language, and gives the words back to the form.
 *
 * The send bar stays at the bottom of what the person sees, above an
 * on-screen keyboard (visualViewport), and says what is still missing.
 */
(function () {
  "use strict";

  var QUEUE = "gridgovPending";
  var TOKEN = "gridgovToken";
  // what the server said no to, by its error code: each has its own words
  var REFUSED = {
    outside_community: "refused_outside",
    unknown_category: "refused_category",
    empty_description: "refused_description",
    description_too_long: "refused_description"
  };

  function text(tag, value, className) {
    var el = document.createElement(tag);
    el.textContent = value === null || value === undefined ? "" : String(value);
    if (className) { el.className = className; }
    return el;
  }

  function queue() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }

  function save(items) { localStorage.setItem(QUEUE, JSON.stringify(items)); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "k" + Date.now() + "-" + Math.random().toString(36).slice(2);
  }

  /* A photo no larger than 1600 px on its long side, as a JPEG data URL. */
  function downscale(file) {
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () {
        var scale = Math.min(1, 1600 / Math.max(img.width, img.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(img.width * scale);
        canvas.height = Math.round(img.height * scale);
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        resolve(canvas.toDataURL("image/jpeg", 0.8));
      };
      img.onerror = reject;
      img.src = URL.createObjectURL(file);
    });
  }

  function dataUrlBlob(url) {
    var parts = url.split(",");
    var bytes = atob(parts[1]);
    var buf = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) { buf[i] = bytes.charCodeAt(i); }
    return new Blob([buf], { type: "image/jpeg" });
  }

  window.gridgovReport = function (map, options) {
    var t = options.labels;
    var form = document.getElementById("gg-report");
    var where = form.querySelector(".gg-where");
    var send = form.querySelector(".gg-send");
    var pending = form.querySelector(".gg-pending");
    var missing = form.querySelector(".gg-missing");
    var notice = form.querySelector(".gg-notice");
    var desc = form.querySelector(".gg-desc");
    var photoInput = form.querySelector(".gg-photo");
    var photoBox = form.querySelector(".gg-photo-box");
    var result = document.getElementById("gg-result");
    // the form is sent by script only: never by the browser (Enter in a field)
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    // a grid worker signed in (staff token on this phone) reports on patrol and may
    // file and dispatch on the spot
    var token = window.localStorage && localStorage.getItem(TOKEN);
    var staffBox = form.querySelector(".gg-staff-mode");
    if (token) { staffBox.hidden = false; }
    var state = { pin: null, inside: false, category: null, photo: null, sent: 0 };
    window.gridgovReportState = state;

    /* A grid's or squad's name in the page's language: the English one where it has one. */
    function named(name, english) {
      return (options.lang === "en" && english) || name || "";
    }

    /* Say something the person must see, in the send bar. */
    function tell(message) {
      notice.textContent = message;
      notice.hidden = false;
    }

    /* The token no longer works: forget it here, and say so once. */
    var dropped = false;
    function dropToken() {
      token = null;
      if (localStorage.getItem(TOKEN)) { localStorage.removeItem(TOKEN); }
      staffBox.hidden = true;
      if (!dropped) { dropped = true; tell(t.staff_dropped); }
    }

    // a token revoked since it was stored: find out before the person reports
    if (token) {
      fetch(options.api + "/me", { headers: { "Authorization": "Bearer " + token } })
        .then(function (r) { if (r.status === 401) { dropToken(); } })
        .catch(function () { /* offline: the send finds out */ });
    }

    function check() {
      var p = state.pin.getLatLng();
      var params = new URLSearchParams({ lon: p.lng, lat: p.lat });
      fetch(options.api + "/locate?" + params.toString())
        .then(function (r) { return r.json(); })
        .then(function (body) {
          state.inside = body.inside;
          where.textContent = body.inside
            ? t.in_grid + " " + named(body.grid.name, body.grid.name_en)
            : t.outside.replace("{m}", Math.round(body.outside_m)).replace("{c}", body.community);
          where.className = "gg-where " + (body.inside ? "gg-ok" : "gg-bad");
          if (body.inside) { follow(body.grid.code); }
          ready();
        })
        .catch(function () { where.textContent = t.offline_check; });
    }

    function place(latlng) {
      if (!state.pin) {
        state.pin = L.marker(latlng, { draggable: true }).addTo(map);
        state.pin.on("dragend", check);
      } else {
        state.pin.setLatLng(latlng);
      }
      check();
    }

    /* Enable 提交 when the report is whole; else say what is still missing. */
    function ready() {
      var lacking = [];
      if (!state.pin) { lacking.push(t.missing_pin); } else if (!state.inside) {
        lacking.push(t.missing_inside);
      }
      if (!state.category) { lacking.push(t.missing_category); }
      if (!desc.value.trim()) { lacking.push(t.missing_desc); }
      send.disabled = lacking.length > 0;
      missing.textContent = lacking.length
        ? t.missing.replace("{what}", lacking.join(t.list_sep)) : "";
      lift();
    }

    /* Keep the send bar at the bottom of the visible part of the page: above an
       on-screen keyboard, which shrinks the visual viewport, not the layout one. */
    var bar = form.querySelector(".gg-bar");
    var view = window.visualViewport;
    function lift() {
      if (!view) { return; }
      var bottom = view.height + view.offsetTop;  // the visible bottom, in page pixels
      var up = Math.min(0, bottom - window.innerHeight);
      bar.style.transform = up ? "translateY(" + up + "px)" : "";
    }
    if (view) {
      view.addEventListener("resize", lift);
      view.addEventListener("scroll", lift);
    }
    desc.addEventListener("focus", function () {
      // once the keyboard is up, keep the field itself above the bar
      setTimeout(function () {
        lift();
        var r = desc.getBoundingClientRect();
        var top = bar.getBoundingClientRect().top;
        if (r.bottom > top) { window.scrollBy(0, r.bottom - top + 8); }
      }, 300);
    });

    function showPhoto(url) {
      state.photo = url;
      photoBox.querySelector(".gg-thumb").src = url || "";
      photoBox.hidden = !url;
    }

    /* Clear the form for the next report (the report itself is safe in the queue). */
    function reset() {
      desc.value = "";
      state.category = null;
      form.querySelectorAll(".gg-cat").forEach(function (x) { x.classList.remove("gg-chosen"); });
      photoInput.value = "";
      showPhoto(null);
      ready();
    }

    /* A refused report: give its words and category back to an empty form. */
    function giveBack(item) {
      if (desc.value.trim()) { return; }
      desc.value = item.body.description;
      var b = form.querySelector('.gg-cat[data-code="' + CSS.escape(item.body.category) + '"]');
      if (b) { b.click(); }
      ready();
    }

    map.on("click", function (e) { place(e.latlng); });
    form.querySelector(".gg-locate").addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        var here = L.latLng(pos.coords.latitude, pos.coords.longitude);
        map.setView(here, 18);
        place(here);
      }, function () { where.textContent = t.no_location; }, { enableHighAccuracy: true });
    });
    desc.addEventListener("input", ready);
    photoInput.addEventListener("change", function (e) {
      var file = e.target.files && e.target.files[0];
      if (!file) { showPhoto(null); return; }
      downscale(file).then(showPhoto);
    });
    photoBox.querySelector(".gg-photo-remove").addEventListener("click", function () {
      photoInput.value = "";
      showPhoto(null);
    });

    // the page carries the catalogue, saving a round trip on slow connections: its
    // community's when it holds one, else the shared one until the pin finds its own
    var catalogue = options.categories
      ? Promise.resolve({ categories: options.categories })
      : fetch(options.api + "/categories").then(function (r) { return r.json(); });
    catalogue.then(function (body) { draw(body.categories); });
    var shownFor = options.community || null;  // the community whose categories are shown
    var asked = 0;

    // the categories of the pin's community (each may keep its own, or leave some out)
    function follow(grid) {
      var community = grid.slice(0, 12);
      if (map.gridgovBasemap) { map.gridgovBasemap.show(community); }  // drawn once
      if (community === shownFor) { return; }
      var n = ++asked;
      fetch(options.api + "/categories?area=" + encodeURIComponent(community))
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (body) {
          if (n !== asked) { return; }  // the pin moved on meanwhile
          shownFor = community;
          draw(body.categories);
          ready();
        })
        .catch(function () { /* offline: keep the buttons; the server checks again */ });
    }

    function draw(categories) {
      var box = form.querySelector(".gg-categories");
      box.textContent = "";
      if (!categories.some(function (c) { return c.code === state.category; })) {
        state.category = null;
      }
      categories.forEach(function (c) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "gg-cat";
        b.dataset.code = c.code;
        b.appendChild(text("span", options.glyphs[c.code] || "?", "gg-glyph"));
        b.appendChild(text("span", options.lang === "en" ? c.name_en : c.name_zh));
        b.addEventListener("click", function () {
          state.category = c.code;
          box.querySelectorAll(".gg-cat").forEach(function (x) {
            x.classList.toggle("gg-chosen", x === b);
          });
          ready();
        });
        b.classList.toggle("gg-chosen", c.code === state.category);
        box.appendChild(b);
      });
    }

    if (options.start) {  // a deep link: the coordinates may be GCJ-02 or BD-09
      var params = new URLSearchParams({ lon: options.start.lon, lat: options.start.lat,
                                         crs: options.start.crs });
      fetch(options.api + "/locate?" + params.toString())
        .then(function (r) { return r.json(); })
        .then(function (body) {
          var here = L.latLng(body.location.lat, body.location.lon);
          map.setView(here, 18);
          place(here);
        });
    }

    function showPending() {
      var n = queue().length;
      pending.textContent = n ? t.pending.replace("{n}", n) : "";
    }

    function upload(caseId, token, photo) {
      var data = new FormData();
      data.append("file", dataUrlBlob(photo), "photo.jpg");
      return fetch(options.api + "/issues/" + caseId + "/photos",
                   { method: "POST", headers: { "X-Photo-Token": token }, body: data });
    }

    /* File and dispatch the new case to the nearest able squad, then say who and when. */
    function dispatchNow(caseId) {
      var box = text("p", t.dispatching, "gg-dispatch");
      if (!token) { box.textContent = t.dispatch_failed; return { box: box }; }
      fetch(options.api + "/issues/" + caseId + "/dispatch", {
        method: "POST", headers: { "Authorization": "Bearer " + token,
                                   "Content-Type": "application/json" }, body: "{}"
      }).then(function (r) {
        return r.json().then(function (body) {
          if (r.ok) {
            var a = body.assignment;
            box.textContent = t.squad + ": " + named(a.squad_name, a.squad_name_en) + " · " +
              t.eta.replace("{min}", Math.round(a.eta_min)).replace("{m}", Math.round(a.distance_m));
          } else {
            box.textContent = body.error ? body.error.message : String(r.status);
          }
        });
      }).catch(function () { box.textContent = t.dispatch_failed; });
      return { box: box };
    }

    function done(item, answer) {
      save(queue().filter(function (q) { return q.key !== item.key; }));
      showPending();
      state.sent += 1;
      result.textContent = "";
      result.appendChild(text("h2", t.thanks));
      result.appendChild(text("p", t.case_no + " " + answer.id, "gg-case-no"));
      result.appendChild(text("p", t.grid + ": " +
        (answer.grid ? named(answer.grid.name, answer.grid.name_en) : "")));
      result.appendChild(text("p", answer.squad
        ? t.squad + ": " + named(answer.squad.name, answer.squad.name_en) : t.waiting));
      var dispatching = item.dispatch ? dispatchNow(answer.id) : null;
      if (dispatching) { result.appendChild(dispatching.box); }
      result.appendChild(text("h3", t.next));
      if (!answer.squad) { result.appendChild(text("p", options.next_file, "gg-next")); }
      result.appendChild(text("p", t.keep_link));
      var link = document.createElement("a");
      var path = "/report/" + encodeURIComponent(answer.id) + "?lang=" + options.lang;
      // the photo token after "#": this phone may see its own photos there (never sent
      // to the server in the address; gridgov-follow.js reads it)
      link.href = answer.photo_token
        ? path + "#photo=" + encodeURIComponent(answer.photo_token) : path;
      link.textContent = t.follow + " · " + location.origin + path;
      link.className = "gg-follow";
      result.appendChild(link);
      var again = text("button", t.another, "gg-another gg-big");
      again.type = "button";
      again.addEventListener("click", function () {
        result.hidden = true;
        window.scrollTo(0, 0);
      });
      result.appendChild(again);
      if (document.activeElement && document.activeElement.blur) {
        document.activeElement.blur();  // lowers an on-screen keyboard
      }
      result.hidden = false;
      result.scrollTop = 0;
      result.focus({ preventScroll: true });
      if (item.photo) { return upload(answer.id, answer.photo_token, item.photo); }
      return null;
    }

    /* Send what is queued; keep anything that does not get an answer. */
    var inFlight = {};

    function flush() {
      queue().forEach(function (item) {
        if (inFlight[item.key]) { return; }
        inFlight[item.key] = true;
        var abort = new AbortController();
        var timer = setTimeout(function () { abort.abort(); }, 15000);
        var headers = { "Content-Type": "application/json", "Idempotency-Key": item.key };
        if (item.staff && !token) { asResident(item); }
        if (item.staff) { headers.Authorization = "Bearer " + token; }
        fetch(options.api + "/issues", {
          method: "POST", signal: abort.signal, headers: headers,
          body: JSON.stringify(item.body)
        }).then(function (r) {
          clearTimeout(timer);
          delete inFlight[item.key];
          return r.json().catch(function () { return {}; }).then(function (answer) {
            var code = answer && answer.error ? answer.error.code : "";
            if (r.status === 201) { return done(item, answer); }
            if ((r.status === 401 || r.status === 403) && item.staff) {
              // the token, not the report: send it again as a resident's, at once;
              // a token the server no longer knows (401) is dropped from this phone
              if (r.status === 401) { dropToken(); } else { tell(t.staff_refused); }
              asResident(item);
              flush();
              return null;
            }
            if (r.status >= 400 && r.status < 500 && [401, 403, 408, 429].indexOf(r.status) < 0) {
              // the server read the report and said no: tell the person, do not retry
              save(queue().filter(function (q) { return q.key !== item.key; }));
              showPending();
              if (code === "idempotency_key_reused") {
                tell(t.already_received);  // an earlier try got through
              } else {
                tell(t[REFUSED[code] || "refused"]);
                giveBack(item);
              }
            }
            return null;
          });
        }).catch(function () {
          clearTimeout(timer);
          delete inFlight[item.key];
          showPending();
        });
      });
    }

    /* Make a queued staff report a resident's: no token, the residents' channel. */
    function asResident(item) {
      save(queue().map(function (q) {
        if (q.key !== item.key) { return q; }
        q.staff = false;
        q.dispatch = false;
        q.body.channel = "mobile";
        return q;
      }));
      item.staff = false;
      item.dispatch = false;
      item.body.channel = "mobile";
    }

    send.addEventListener("click", function () {
      var p = state.pin.getLatLng();
      var body = { lon: p.lng, lat: p.lat, crs: "wgs84", category: state.category,
                   description: desc.value.trim(),
                   channel: "mobile" };
      var name = form.querySelector(".gg-name").value.trim();
      var phone = form.querySelector(".gg-phone").value.trim();
      if (name || phone) { body.reporter = { name: name || null, phone: phone || null }; }
      var staff = !!token;
      if (staff) { body.channel = "patrol"; }
      var dispatch = staff && form.querySelector(".gg-dispatch-now").checked;
      var items = queue();
      items.push({ key: newKey(), body: body, photo: state.photo, staff: staff,
                   dispatch: dispatch });
      save(items);
      showPending();
      notice.hidden = true;
      reset();
      flush();
    });

    window.addEventListener("online", flush);
    setInterval(flush, options.retryMs || 10000);
    showPending();
    ready();
    flush();
  };
}());
