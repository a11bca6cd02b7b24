/*
 * gridgov: the managers' map at its default area opens on a signed-in user's own.
 *
 * `/` without ?area= shows the smallest area holding every loaded community.
 * Staff whose token a page keeps (localStorage "gridgovToken", saved by the
 * case page's or the planner's sign-in) hold their role within an area; when
 * that area lies inside the one shown, the page moves to `/?area=<theirs>`,
 * keeping the rest of its address (?lang=).  A user of the whole deployment, or
 * of an area the page already shows whole, stays.
 */
(function () {
  "use strict";

  window.gridgovHome = function (map, options) {
    var token = window.localStorage && localStorage.getItem("gridgovToken");
    if (!token) { return; }
    fetch(options.api + "/me", { headers: { "Authorization": "Bearer " + token } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (me) {
        var theirs = me && me.area;
        if (!theirs || theirs === options.area || theirs.indexOf(options.area) !== 0) { return; }
        var params = new URLSearchParams(window.location.search);
        params.set("area", theirs);
        window.location.replace(window.location.pathname + "?" + params.toString());
      })
      .catch(function () { /* stay on the default area */ });
  };
}());
