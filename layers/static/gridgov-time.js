/*
 * gridgov: an ISO UTC instant from the API written in the community's local time
 * and the page's language, by the browser's own Intl (the server writes its pages
 * the same way with Babel: layers/timefmt.py).
 */
(function () {
  "use strict";

  var formats = {};

  window.gridgovTime = function (iso, lang, tz) {
    if (!iso) { return ""; }
    var moment = new Date(iso);
    if (isNaN(moment.getTime())) { return String(iso); }
    var key = lang + " " + tz;
    if (!formats[key]) {
      formats[key] = new Intl.DateTimeFormat(lang === "en" ? "en-US" : "zh-CN", {
        timeZone: tz, year: "numeric", month: lang === "en" ? "short" : "long",
        day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23"
      });
    }
    return formats[key].format(moment);
  };
}());
