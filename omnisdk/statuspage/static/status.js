// The status page's live parts: no framework, no build step. Without JavaScript the page
// is the server's render (it reloads itself every 15 s); with it, an EventSource receives
// the sections whose HTML changed and <time data-age> elements say how long ago.
(function () {
  "use strict";

  function ago(seconds) {
    if (seconds < 5) return "just now";
    if (seconds < 90) return Math.round(seconds) + " s ago";
    if (seconds < 5400) return Math.round(seconds / 60) + " min ago";
    if (seconds < 129600) return Math.round(seconds / 3600) + " h ago";
    return Math.round(seconds / 86400) + " d ago";
  }

  function showAges(root) {
    var now = Date.now();
    root.querySelectorAll("time[data-age]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      if (!el.title) el.title = el.textContent;
      el.textContent = ago(Math.max(0, (now - at) / 1000));
    });
  }

  function connect(url) {
    var badge = document.getElementById("live");
    var source = new EventSource(url);
    badge.hidden = false;
    badge.textContent = "connecting…";
    source.addEventListener("open", function () {
      badge.textContent = "live";
      badge.className = "live on";
    });
    source.addEventListener("error", function () {
      badge.textContent = "reconnecting…";
      badge.className = "live off";
    });
    source.addEventListener("section", function (event) {
      var message = JSON.parse(event.data);
      var target = document.getElementById("s-" + message.id);
      if (!target) return;
      target.innerHTML = message.html;  // rendered and escaped by the server
      target.dataset.version = message.digest;
      showAges(target);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    showAges(document);
    window.setInterval(function () { showAges(document); }, 1000);
    var url = document.body.dataset.live;
    if (url && window.EventSource) connect(url);
  });
})();
