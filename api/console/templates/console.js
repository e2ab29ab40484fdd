// Live queue counts: the page works without this script (the counts are
// rendered with it); with it, they are refreshed every 30 seconds.
"use strict";
(function () {
  function refresh() {
    fetch("/console/compteurs", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (counts) {
        if (!counts) { return; }
        Object.keys(counts).forEach(function (key) {
          var badge = document.querySelector('[data-queue="' + key + '"] .count');
          if (badge) { badge.textContent = String(counts[key]); }
        });
      })
      .catch(function () { /* the next round tries again */ });
  }
  window.setInterval(refresh, 30000);
})();
