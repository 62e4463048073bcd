// smsbot's pop-up list builder, for a store's own pages:
//   <script src="https://sms.example.com/join/spring/popup.js" async
//           data-delay="8" data-scroll="50" data-exit data-days="14" data-exclude="/checkout,/cart"></script>
// It opens the sign-up form /join/spring (the same consent and double opt-in) in a dialog: after
// data-delay seconds, once data-scroll percent of the page is read, or on leaving the page (data-exit),
// whichever comes first (with none of them: after 8 seconds); at most once per visitor every
// data-days days (14); never on pages whose path begins with one of data-exclude. Escape, the Close
// button or a click beside it closes it, and the focus goes back where it was. Nothing is asked of
// anyone but the store's page and this server.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !window.localStorage || !window.URL) { return; }
  var source = new URL(me.src, window.location.href);
  var form = source.pathname.replace(/\/popup\.js$/, "");
  var key = "smsbot-popup:" + source.origin + form;
  var days = Number(me.getAttribute("data-days") || "14");
  var seen = Number(window.localStorage.getItem(key) || "0");
  if (seen && Date.now() - seen < days * 86400000) { return; }
  var excluded = (me.getAttribute("data-exclude") || "").split(",").map(function (p) { return p.trim(); });
  for (var i = 0; i < excluded.length; i++) {
    if (excluded[i] && window.location.pathname.indexOf(excluded[i]) === 0) { return; }
  }
  var opened = false;

  function styled(element, styles) {
    for (var name in styles) { element.style[name] = styles[name]; }  // CSSOM: allowed by a strict CSP
    return element;
  }

  function open() {
    if (opened) { return; }
    opened = true;
    window.localStorage.setItem(key, String(Date.now()));
    var before = document.activeElement;
    var shade = styled(document.createElement("div"), {
      position: "fixed", top: "0", right: "0", bottom: "0", left: "0", zIndex: "2147483647",
      background: "rgba(0, 0, 0, 0.5)", display: "flex", alignItems: "center", justifyContent: "center"
    });
    var box = styled(document.createElement("div"), {
      background: "#fff", borderRadius: "8px", padding: "8px", width: "min(28rem, 94vw)", maxHeight: "94vh",
      display: "flex", flexDirection: "column"
    });
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    box.setAttribute("aria-label", "Sign up for texts");
    box.id = "smsbot-popup";
    var close = styled(document.createElement("button"), { alignSelf: "flex-end", font: "inherit" });
    close.type = "button";
    close.textContent = "Close";
    var frame = styled(document.createElement("iframe"), { width: "100%", height: "520px", border: "0" });
    frame.title = "Sign up for texts";
    frame.src = source.origin + form;
    box.appendChild(close);
    box.appendChild(frame);
    shade.appendChild(box);
    document.body.appendChild(shade);

    function shut() {
      document.removeEventListener("keydown", keys, true);
      shade.parentNode.removeChild(shade);
      if (before && before.focus) { before.focus(); }
    }
    function keys(event) {
      if (event.key === "Escape") { shut(); }
      if (event.key === "Tab" && !box.contains(document.activeElement)) { event.preventDefault(); close.focus(); }
    }
    close.addEventListener("click", shut);
    shade.addEventListener("click", function (event) { if (event.target === shade) { shut(); } });
    document.addEventListener("keydown", keys, true);
    close.focus();
  }

  var delay = me.getAttribute("data-delay");
  var scroll = me.getAttribute("data-scroll");
  var exit = me.hasAttribute("data-exit");
  if (delay === null && scroll === null && !exit) { delay = "8"; }
  if (delay !== null) { window.setTimeout(open, Number(delay) * 1000); }
  if (scroll !== null) {
    window.addEventListener("scroll", function () {
      var page = document.documentElement;
      var read = (window.scrollY + window.innerHeight) / Math.max(page.scrollHeight, 1) * 100;
      if (read >= Number(scroll)) { open(); }
    }, { passive: true });
  }
  if (exit) {
    document.addEventListener("mouseout", function (event) {
      if (!event.relatedTarget && event.clientY <= 0) { open(); }
    });
  }
}());
