/*
 * gridgov: the reporter's own photos on the follow page /report/<id>, as thumbnails.
 *
 * Photos are never public (they may show faces, number plates or a door). The phone
 * that reported a case holds the case's photo token: the confirmation's follow link
 * carries it after "#photo=" (a fragment, so it is never sent to the server, kept in
 * its logs or passed on as a Referer). This script keeps it on the phone, takes it out
 * of the address bar, and fetches the thumbnails with it as X-Photo-Token.
 */
(function () {
  "use strict";

  var box = document.querySelector(".gg-photos");
  if (!box || !window.fetch || !window.URL || !URL.createObjectURL) { return; }
  var id = box.getAttribute("data-case");
  var key = "gridgov.photo." + id;
  var given = /(?:^#|&)photo=([A-Za-z0-9_-]+)/.exec(window.location.hash);
  var token = given ? given[1] : null;
  try {
    if (token) { window.localStorage.setItem(key, token); }
    token = window.localStorage.getItem(key) || token;
  } catch (e) { /* storage refused (private mode): this visit only */ }
  if (given && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  if (!token) { return; }
  var headers = { "X-Photo-Token": token };
  var api = box.getAttribute("data-api");

  function show(blob) {
    var img = document.createElement("img");
    img.src = URL.createObjectURL(blob);
    img.alt = box.getAttribute("data-alt");
    img.className = "gg-thumb";
    box.appendChild(img);
    box.hidden = false;
  }

  fetch(api + "/issues/" + encodeURIComponent(id) + "/photos", { headers: headers })
    .then(function (res) { return res.ok ? res.json() : []; })
    .then(function (photos) {
      photos.forEach(function (photo) {
        fetch(photo.thumbnail_url, { headers: headers })
          .then(function (res) { return res.ok ? res.blob() : null; })
          .then(function (blob) { if (blob) { show(blob); } });
      });
    })
    .catch(function () { /* offline: the rest of the page stands without them */ });
}());
