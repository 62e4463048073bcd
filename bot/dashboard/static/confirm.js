// A form whose action has stakes (send a campaign to thousands, cancel it) asks once more, saying
// them: its data-confirm. The server does not rely on it: the action is checked there either way.
document.addEventListener("submit", function (event) {
  "use strict";
  var asked = event.target.getAttribute("data-confirm");
  if (asked && !window.confirm(asked)) { event.preventDefault(); }
});
