/*
 * gridgov: the managers' map's own sign-in, in the side dock.
 *
 * A typed staff token is kept (localStorage "gridgovToken", as the case page keeps
 * it) only once GET /me knows it; the dock then names the user and their role in
 * the page's language.  Signing out forgets the token.  Either tells the page
 * (the window's "gridgov-signin" event), so that staff-only layers follow at once.
 * Names are shown as text.
 */
(function () {
  "use strict";

  window.gridgovSignin = function (root, options) {
    if (!root) { return null; }
    var t = options.labels;
    var form = root.querySelector(".gg-signin-form");
    var box = root.querySelector("input[name=token]");
    var who = root.querySelector(".gg-signed-in");
    var whoText = root.querySelector(".gg-who");
    var message = root.querySelector(".gg-signin-message");
    var state = { user: null };

    function signedIn(user) {
      state.user = user;
      var role = options.roles[user.role] || user.role;
      whoText.textContent = t.signed_in.replace("{name}", user.name).replace("{role}", role);
      whoText.setAttribute("data-role", user.role);
      form.hidden = true;
      who.hidden = false;
    }

    function signedOut() {
      state.user = null;
      whoText.textContent = "";
      whoText.removeAttribute("data-role");
      who.hidden = true;
      form.hidden = false;
    }

    function check(token) {
      return fetch(options.api + "/me", { headers: { "Authorization": "Bearer " + token } })
        .then(function (r) {
          if (r.ok) { return r.json(); }
          throw new Error(r.status === 401 || r.status === 403 ? "bad" : "unchecked");
        });
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var typed = box.value.trim();
      if (!typed) { return; }
      message.textContent = "";
      check(typed).then(function (user) {
        localStorage.setItem("gridgovToken", typed);
        box.value = "";
        signedIn(user);
        window.dispatchEvent(new Event("gridgov-signin"));
      }).catch(function (err) {
        message.textContent = err && err.message === "bad" ? t.token_bad : t.token_unchecked;
      });
    });

    root.querySelector(".gg-signout").addEventListener("click", function () {
      localStorage.removeItem("gridgovToken");
      message.textContent = "";
      signedOut();
      window.dispatchEvent(new Event("gridgov-signin"));
    });

    var saved = window.localStorage && localStorage.getItem("gridgovToken");
    if (saved) {
      check(saved).then(signedIn).catch(function (err) {
        if (err && err.message === "bad") { localStorage.removeItem("gridgovToken"); }
        signedOut();
      });
    } else {
      signedOut();
    }
    window.gridgovSignin.state = state;
    return state;
  };
}());
