// The Inbox's pages: new messages and delivery statuses appear without a reload (short polling of
// /dashboard/inbox/changes: the part of the page marked #live is fetched again when its mark
// changes), the unread count stays in the title, and the answer box counts characters and
// segments as the carriers will (GSM-7: 160, or 153 a part; UCS-2: 70, or 67 a part).
(function () {
  "use strict";
  var EVERY = 4000;
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡" +
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENDED = "^{}\\[~]|€";

  function segments(text) {
    var units = 0, gsm = true, i, ch;
    for (i = 0; i < text.length; i++) {
      ch = text.charAt(i);
      if (GSM.indexOf(ch) >= 0) { units += 1; } else if (EXTENDED.indexOf(ch) >= 0) { units += 2; } else { gsm = false; break; }
    }
    if (gsm) { return { parts: units <= 160 ? 1 : Math.ceil(units / 153), encoding: "GSM-7" }; }
    return { parts: text.length <= 70 ? 1 : Math.ceil(text.length / 67), encoding: "UCS-2" };
  }

  var body = document.getElementById("body");
  var length = document.getElementById("length");
  var saved = document.getElementById("saved");
  function show() {
    var counted = segments(body.value);
    length.textContent = body.value.length + " characters · " + counted.parts +
      (counted.parts === 1 ? " segment" : " segments") + " (" + counted.encoding + ")";
  }
  if (body && length) { body.addEventListener("input", show); show(); }
  if (saved && body) {
    saved.addEventListener("change", function () {
      if (saved.value) { body.value = saved.value; if (length) { show(); } body.focus(); }
    });
  }

  var live = document.getElementById("live");
  if (!live) { return; }
  function title(unread) {
    document.title = document.title.replace(/Inbox( \(\d+\))?/, unread ? "Inbox (" + unread + ")" : "Inbox");
  }
  function refresh() {
    return fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        if (fresh) { live.innerHTML = fresh.innerHTML; live.dataset.mark = fresh.dataset.mark; }
      });
  }
  function poll() {
    fetch(live.dataset.changes, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (found) {
        if (!found) { return null; }
        title(found.unread);
        var mark = Object.prototype.hasOwnProperty.call(found, "thread") ? found.thread : found.mark;
        return mark !== live.dataset.mark ? refresh() : null;
      })
      .catch(function () { return null; })
      .then(function () { window.setTimeout(poll, EVERY); });
  }
  window.setTimeout(poll, EVERY);
}());
